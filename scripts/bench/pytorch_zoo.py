"""greenbench's model zoo in PyTorch: every registry model, layer for layer.

The CNNs are kuangliu/pytorch-cifar's own code (copied unchanged into pytorch_cifar/, MIT
License, see pytorch_cifar/LICENSE), which greenbench's CNNs were written from (same layers,
same parameter names). One difference is removed here: pytorch-cifar's EfficientNetB0 applies
dropout (p = 0.2) before its classifier in training mode, greenbench's does not, so it is built
with dropout 0. The MLPs and transformers are written after crates/models/src/mlp.rs and
crates/models/src/transformer/.

`build(name)` returns the model and its input: (model, sample shape, classes, text).
"""

import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pytorch_cifar import (  # noqa: E402  (after the path is set)
    densenet,
    dla_simple,
    dpn,
    efficientnet,
    googlenet,
    lenet,
    mobilenet,
    mobilenetv2,
    pnasnet,
    preact_resnet,
    regnet,
    resnet,
    resnext,
    senet,
    shufflenetv2,
    vgg,
)


class Mlp(nn.Module):
    """Flatten, then Linear + ReLU per hidden width, then Linear to the classes."""

    def __init__(self, hidden, inputs=784, classes=10):
        super().__init__()
        widths = [inputs, *hidden, classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class Attention(nn.Module):
    """Multi-head self-attention with one QKV projection (causal for the GPT)."""

    def __init__(self, dim, heads, causal):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.heads, self.causal = heads, causal

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)
        if self.causal:
            scores = scores + torch.triu(torch.full((t, t), -1e9), diagonal=1)
        y = scores.softmax(-1) @ v
        return self.proj(y.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
    """Pre-norm transformer block: attention and a tanh-GELU MLP, each with a residual."""

    def __init__(self, dim, heads, hidden, causal):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, causal)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class Vit(nn.Module):
    """ViT with 4x4 patches, a class token and learned positions."""

    def __init__(self, dim, depth, heads, hidden, chw=(3, 32, 32), classes=10, patch=4):
        super().__init__()
        c, h, w = chw
        self.chw, self.patch_size = chw, patch
        tokens = (h // patch) * (w // patch) + 1
        self.patch = nn.Linear(c * patch * patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim).normal_(0, 0.02))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim).normal_(0, 0.02))
        self.blocks = nn.ModuleList(Block(dim, heads, hidden, False) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        n = x.shape[0]
        c, h, w = self.chw
        p = self.patch_size
        x = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, -1, c * p * p)
        z = torch.cat([self.cls_token.expand(n, -1, -1), self.patch(x)], 1) + self.pos_embed
        for b in self.blocks:
            z = b(z)
        return self.head(self.norm(z)[:, 0])


class CharGpt(nn.Module):
    """Character GPT: token and learned position embeddings, causal blocks, MLP 4x width."""

    def __init__(self, dim=128, depth=4, heads=4, seq_len=64, vocab=80):
        super().__init__()
        self.tok_embed = nn.Parameter(torch.zeros(vocab, dim).normal_(0, 0.02))
        self.pos_embed = nn.Parameter(torch.zeros(seq_len, dim).normal_(0, 0.02))
        self.blocks = nn.ModuleList(Block(dim, heads, 4 * dim, True) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, x):
        t = x.shape[1]
        z = self.tok_embed[x] + self.pos_embed[:t]
        for b in self.blocks:
            z = b(z)
        return self.head(self.norm(z))


def efficientnet_b0_without_dropout():
    """pytorch-cifar's EfficientNetB0 with its classifier dropout off, as greenbench's."""
    net = efficientnet.EfficientNetB0()
    net.cfg["dropout_rate"] = 0.0
    return net


IMAGE, MNIST, TEXT = ((3, 32, 32), 10, False), ((1, 28, 28), 10, False), ((64,), 80, True)

# name -> (constructor, (sample shape, classes, text)), in `greenbench models` order.
MODELS = {
    "mlp-small": (lambda: Mlp([256]), MNIST),
    "mlp-medium": (lambda: Mlp([512, 256]), MNIST),
    "mlp-large": (lambda: Mlp([1024, 1024, 512]), MNIST),
    "lenet": (lenet.LeNet, IMAGE),
    "vgg16": (lambda: vgg.VGG("VGG16"), IMAGE),
    "resnet18": (resnet.ResNet18, IMAGE),
    "preact-resnet18": (preact_resnet.PreActResNet18, IMAGE),
    "googlenet": (googlenet.GoogLeNet, IMAGE),
    "densenet121": (densenet.DenseNet121, IMAGE),
    "resnext29-2x64d": (resnext.ResNeXt29_2x64d, IMAGE),
    "mobilenet": (mobilenet.MobileNet, IMAGE),
    "mobilenet-v2": (mobilenetv2.MobileNetV2, IMAGE),
    "dpn26": (dpn.DPN26, IMAGE),
    "shufflenet-v2": (lambda: shufflenetv2.ShuffleNetV2(net_size=1), IMAGE),
    "senet18": (senet.SENet18, IMAGE),
    "efficientnet-b0": (efficientnet_b0_without_dropout, IMAGE),
    "regnetx-200mf": (regnet.RegNetX_200MF, IMAGE),
    "simple-dla": (dla_simple.SimpleDLA, IMAGE),
    "pnasnet-b": (pnasnet.PNASNetB, IMAGE),
    "vit-tiny": (lambda: Vit(dim=64, depth=4, heads=4, hidden=128), IMAGE),
    "vit-small": (lambda: Vit(dim=192, depth=6, heads=6, hidden=384), IMAGE),
    "char-gpt": (CharGpt, TEXT),
}


def build(name):
    """The model `name` and its input: (model, sample shape, classes, text)."""
    ctor, (shape, classes, text) = MODELS[name]
    return ctor(), shape, classes, text


def params(model):
    """Trainable parameters, counted as greenbench counts them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    for name in MODELS:
        print(f"{name:<16} {params(build(name)[0]):>10}")
