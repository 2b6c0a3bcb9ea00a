#!/usr/bin/env python3
"""Train a pytorch-cifar network on CIFAR-10 (or greenbench's fashion-mnist-32 stand-in) under
`greenbench` and report what only the script knows in greenbench's line protocol
(docs/workloads.md): model size, epoch and inference boundaries, loss and accuracies. greenbench
meters the process; this script only says when its phases begin and end.

    greenbench exec -- python3 scripts/pytorch/train.py --dataset fashion-mnist-32 --model resnet18
    greenbench sweep configs/pytorch-example.toml  (beside configs/candle-example.toml)

The networks are the copies of kuangliu/pytorch-cifar under scripts/bench/pytorch_cifar, built by
scripts/bench/pytorch_zoo.py with greenbench's names (resnet18, mobilenet-v2, vgg11, ...).

--dataset cifar10 (default) reads the CIFAR-10 binary batches from --data (default
$GREENBENCH_DATASETS/cifar10, or datasets/cifar10). --dataset fashion-mnist-32 reads
Fashion-MNIST's four idx .gz files from --data (default $GREENBENCH_DATASETS/cache/fashion-mnist,
or datasets/cache/fashion-mnist) and lays them out as greenbench's loader does: each 28×28 plane
scaled to [0, 1], zero-padded by 2 to 32×32, repeated over 3 channels, standardised per channel
with the mean/std of the training samples (padding included); --subset and --test-subset keep a
stratified sample of each split and --validation holds out a stratified fraction of the kept
training samples, as greenbench's `subset`, `test_subset` and `validation` do (the same sizes per
class, not the same images). Needs torch; nothing else.
"""

import argparse
import gzip
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


def idx_file(path):
    """The array of an idx file (gzip-compressed when its name ends in .gz) as a uint8 tensor."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        sys.exit(
            f"{path}: not an idx file of unsigned bytes (magic {raw[:4].hex()}, "
            "expected 00000801 or 00000803); re-fetch it"
        )
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])]
    body = raw[4 + 4 * len(dims) :]
    want = 1
    for d in dims:
        want *= d
    if len(body) != want:
        sys.exit(f"{path}: {len(body)} bytes of data, want {want} for shape {dims}; re-fetch it")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def fashion_mnist(root, split):
    """Images (N, 28, 28) as bytes and labels of a Fashion-MNIST split."""
    stem = "train" if split == "train" else "t10k"

    def find(name):
        for candidate in (f"{name}.gz", name):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
        sys.exit(
            f"{root}: no {name}.gz or {name}; `greenbench datasets` says how to fetch "
            "Fashion-MNIST, or pass its folder with --data"
        )

    x = idx_file(find(f"{stem}-images-idx3-ubyte"))
    y = idx_file(find(f"{stem}-labels-idx1-ubyte")).long()
    if x.dim() != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
        sys.exit(f"{root}: {split} images {tuple(x.shape)}, {len(y)} labels; want (N, 28, 28), N")
    return x, y


def pad_32(x):
    """Byte images (N, 28, 28) as fashion-mnist-32 lays them out: scaled to [0, 1], zero-padded by
    2 to 32×32 and repeated over 3 channels, (N, 3, 32, 32)."""
    return F.pad(x.float().div(255.0).unsqueeze(1), (2, 2, 2, 2)).repeat(1, 3, 1, 1)


def stratified(labels, keep, seed):
    """Indices of `keep` of `labels` (all when `keep` is 0 or not below their number) and of the
    rest: the same share of each class (largest remainders round), drawn with `seed`, the kept
    ones shuffled so any prefix mixes classes."""
    n = len(labels)
    if not keep or keep >= n:
        return torch.arange(n), torch.zeros(0, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    classes = [torch.nonzero(labels == c).flatten() for c in labels.unique().tolist()]
    exact = [len(c) * keep / n for c in classes]
    take = [int(e) for e in exact]
    by_rest = sorted(range(len(classes)), key=lambda i: exact[i] - take[i], reverse=True)
    for i in by_rest[: keep - sum(take)]:
        take[i] += 1
    kept, rest = [], []
    for c, t in zip(classes, take):
        c = c[torch.randperm(len(c), generator=g)]
        kept.append(c[:t])
        rest.append(c[t:])
    kept, rest = torch.cat(kept), torch.cat(rest)
    return kept[torch.randperm(len(kept), generator=g)], rest


def fashion_splits(root, subset, validation, test_subset):
    """Train, validation and test (x, y) of fashion-mnist-32 as greenbench's loader builds them: a
    stratified subset of the train split, a stratified validation fraction held out of it, a
    stratified test subset, all standardised with the training samples' per-channel mean/std."""
    x, y = fashion_mnist(root, "train")
    kept, _ = stratified(y, subset, 1)
    x, y = x[kept], y[kept]
    hold = round(len(y) * validation)
    if hold:
        va, tr = stratified(y, hold, 2)
    else:
        tr, va = torch.arange(len(y)), torch.zeros(0, dtype=torch.long)
    xt, yt = fashion_mnist(root, "test")
    keep_t, _ = stratified(yt, test_subset, 3)
    xtr, xva, xte = pad_32(x[tr]), pad_32(x[va]), pad_32(xt[keep_t])
    mean = xtr.double().mean(dim=(0, 2, 3)).float().view(1, 3, 1, 1)
    std = xtr.double().std(dim=(0, 2, 3), unbiased=False).float().view(1, 3, 1, 1)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))

    def norm(v):
        return (v - mean) / std

    return (norm(xtr), y[tr]), (norm(xva), y[va]), (norm(xte), yt[keep_t])


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
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "fashion-mnist-32"])
    p.add_argument("--data", default=None, help="the dataset's folder (default: see above)")
    p.add_argument("--subset", type=int, default=0, help="train on the first N images only")
    p.add_argument("--test-subset", type=int, default=0, help="test on the first N images only")
    p.add_argument("--validation", type=float, default=0.1)
    a = p.parse_args()
    device = a.device
    torch.manual_seed(a.seed)

    if a.dataset == "cifar10":
        data = a.data or os.environ.get("GREENBENCH_DATASETS", "datasets") + "/cifar10"
        x, y = cifar(data, "train", a.subset)
        hold = int(len(x) * a.validation)
        xv, yv, x, y = x[:hold], y[:hold], x[hold:], y[hold:]
        xt, yt = cifar(data, "test", a.test_subset)
    else:
        data = a.data or os.environ.get("GREENBENCH_DATASETS", "datasets") + "/cache/fashion-mnist"
        (x, y), (xv, yv), (xt, yt) = fashion_splits(data, a.subset, a.validation, a.test_subset)
        hold = len(xv)
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
