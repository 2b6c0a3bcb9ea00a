#!/usr/bin/env python3
"""PyTorch reference for greenbench's training throughput (samples/s), same models and settings.

Mirrors crates/models/examples/train_throughput.rs: synthetic inputs in [-1, 1) (token ids for the
char-GPT), random targets, SGD (lr 0.01, momentum 0.9, weight decay 5e-4), cross-entropy, two
warm-up steps, then at least 3 steps and at least --seconds. The models are written here to match
greenbench's exactly (same layers and parameter counts):

  mlp-medium    784-512-256-10, ReLU                  (1x28x28 input, 10 classes)
  lenet         pytorch-cifar LeNet                   (3x32x32)
  resnet18      pytorch-cifar ResNet18
  mobilenet-v2  pytorch-cifar MobileNetV2
  vit-tiny      4x4 patches, width 64, 4 pre-norm blocks, 4 heads, MLP 128, tanh-GELU
  char-gpt      width 128, 4 causal pre-norm blocks, 4 heads, MLP 512, seq 64, vocab 80

Output: the same table as the Rust example (model, family, batch, samples/s, ms/step).
Usage: pytorch_reference.py --threads 2 --batches 32,128 --models a,b --seconds 3
"""

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self, widths=(784, 512, 256, 10)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, l in enumerate(self.layers):
            x = l(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    def __init__(self, c_in, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, c_in = [], 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            for s in [stride, 1]:
                layers.append(BasicBlock(c_in, planes, s))
                c_in = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(512, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.avg_pool2d(self.layers(out), 4)
        return self.linear(out.flatten(1))


class MbBlock(nn.Module):
    def __init__(self, c_in, c_out, expansion, stride):
        super().__init__()
        self.stride = stride
        planes = expansion * c_in
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride == 1 and c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):
    cfg = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        layers, c_in = [], 32
        for expansion, c_out, n, stride in self.cfg:
            for s in [stride] + [1] * (n - 1):
                layers.append(MbBlock(c_in, c_out, expansion, s))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(320, 1280, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.linear = nn.Linear(1280, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu(self.bn2(self.conv2(out)))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


class Attention(nn.Module):
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
            mask = torch.triu(torch.full((t, t), -1e9), diagonal=1)
            scores = scores + mask
        y = scores.softmax(-1) @ v
        return self.proj(y.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
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
    def __init__(self, dim=64, depth=4, heads=4, hidden=128, chw=(3, 32, 32), classes=10, patch=4):
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


# name -> (family, constructor, sample shape, classes, text)
MODELS = {
    "mlp-medium": ("mlp", Mlp, (1, 28, 28), 10, False),
    "lenet": ("cnn", LeNet, (3, 32, 32), 10, False),
    "resnet18": ("cnn", ResNet18, (3, 32, 32), 10, False),
    "mobilenet-v2": ("cnn", MobileNetV2, (3, 32, 32), 10, False),
    "vit-tiny": ("transformer", Vit, (3, 32, 32), 10, False),
    "char-gpt": ("transformer", CharGpt, (64,), 80, True),
}


def measure(name, bs, seconds):
    family, ctor, shape, classes, text = MODELS[name]
    torch.manual_seed(0)
    model = ctor()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    if text:
        x = torch.randint(0, classes, (bs,) + shape)
        y = torch.randint(0, classes, (bs * shape[0],))
    else:
        x = torch.rand((bs,) + shape) * 2 - 1
        y = torch.randint(0, classes, (bs,))

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    start, steps = time.perf_counter(), 0
    while steps < 3 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return family, steps * bs / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    print(f"threads={a.threads} torch={torch.__version__}")
    print(f"{'model':<14} {'family':<12} {'batch':>6} {'samples/s':>12} {'ms/step':>10}")
    for name in a.models.split(","):
        name = name.strip()
        if name not in MODELS:
            print(f"{name:<14} (no PyTorch reference; skipped)")
            continue
        for bs in [int(b) for b in a.batches.split(",")]:
            family, sps = measure(name, bs, a.seconds)
            print(f"{name:<14} {family:<12} {bs:>6} {sps:>12.1f} {1000 * bs / sps:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
