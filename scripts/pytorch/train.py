#!/usr/bin/env python3
"""Train a pytorch-cifar network on CIFAR-10 under `greenbench` and report what only the script
knows in greenbench's line protocol (docs/workloads.md): model size, epoch and inference
boundaries, loss and accuracies. greenbench meters the process; this script only says when its
phases begin and end.

    greenbench exec -- python3 scripts/pytorch/train.py --model resnet18 --epochs 1
    greenbench sweep configs/pytorch-example.toml

The networks are the copies of kuangliu/pytorch-cifar under scripts/bench/pytorch_cifar, built by
scripts/bench/pytorch_zoo.py with greenbench's names (resnet18, mobilenetv2, vgg11, ...). CIFAR-10
is read from greenbench's datasets folder (the binary batches, `greenbench datasets` says how to
fetch them). Needs torch; nothing else.
"""

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))

import pytorch_zoo  # noqa: E402  (after the path is set)

def say(**fields):
    """One protocol line on stdout: `greenbench: event=... key=value ...`."""
    body = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"greenbench: {body}", flush=True)


def cifar(root, split, limit):
    """Images (N, 3, 32, 32) scaled to [0, 1] and normalised, and labels, of a CIFAR-10 split."""
    files = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    raw = b"".join(open(os.path.join(root, f), "rb").read() for f in files)
    rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, 3073)
    if limit:
        rec = rec[:limit]
    y = rec[:, 0].long()
    x = rec[:, 1:].reshape(-1, 3, 32, 32).float() / 255.0
    mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
    return (x - mean) / std, y


def accuracy(model, x, y, batch, device):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i : i + batch].to(device))
            right += (out.argmax(1).cpu() == y[i : i + batch]).sum().item()
    return right / max(1, len(x))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--data", default=os.environ.get("GREENBENCH_DATASETS", "datasets") + "/cifar10")
    p.add_argument("--subset", type=int, default=0, help="train on the first N images only")
    p.add_argument("--test-subset", type=int, default=0, help="test on the first N images only")
    p.add_argument("--validation", type=float, default=0.1)
    a = p.parse_args()
    device = a.device
    torch.manual_seed(a.seed)

    x, y = cifar(a.data, "train", a.subset)
    hold = int(len(x) * a.validation)
    xv, yv, x, y = x[:hold], y[:hold], x[hold:], y[hold:]
    xt, yt = cifar(a.data, "test", a.test_subset)
    model, _, _, _ = pytorch_zoo.build(a.model)
    model = model.to(device)
    params = pytorch_zoo.params(model)
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as fc:
            model.eval()
            model(xt[:1].to(device))
        say(event="metrics", params=params, macs=fc.get_total_flops() // 2)
    except Exception:  # noqa: BLE001  (MACs are optional; the params still count)
        say(event="metrics", params=params)
    say(event="metrics", train_samples=len(x))
    if hold:
        say(event="metrics", validation_samples=hold)

    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    for epoch in range(1, a.epochs + 1):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        say(event="epoch_start", epoch=epoch)
        model.train()
        order = torch.randperm(len(x))
        loss_sum, right, seen = 0.0, 0, 0
        for i in range(0, len(x), a.batch_size):
            idx = order[i : i + a.batch_size]
            xb, yb = x[idx].to(device), y[idx].to(device)
            opt.zero_grad()
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            right += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        sched.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        say(event="epoch_end", epoch=epoch, loss=loss_sum / seen, train_accuracy=right / seen)
        if hold:
            # Validation accuracy outside the epoch's window, as greenbench's own runs measure it.
            say(event="metrics", val_accuracy=accuracy(model, xv, yv, 512, device))
    say(event="inference_start")
    t = time.time()
    acc = accuracy(model, xt, yt, 512, device)
    say(event="inference_end", samples=len(xt), test_accuracy=acc)
    print(f"{a.model}: test accuracy {acc:.4f}, inference {time.time() - t:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
