#!/usr/bin/env python3
"""PyTorch reference for greenbench's throughput (samples/s): same models, inputs and settings.

Mirrors crates/models/examples/train_throughput.rs. The models come from pytorch_zoo.py (every
greenbench registry model); before timing one, its parameter count is compared with greenbench's
(`greenbench models --json`, given as --registry) and a model that differs is not timed: its rows
say FAILED with both counts, so both tools provably run the same network.

- train: SGD (lr 0.01, momentum 0.9, weight decay 5e-4), cross-entropy, backward, step.
- infer: model.eval() under torch.no_grad(): forward, cross-entropy and the count of correct
  predictions, as greenbench's Trainer::evaluate (a sweep's inference phase) computes them.

Synthetic inputs in [-1, 1) (token ids for the char-GPT), random targets; one warm-up step, then
steps until at least --seconds have passed (at least one). A sample is one input (for the
char-GPT one sequence of 64 tokens).

Output: the same table as the Rust example (model, family, mode, batch, samples/s, ms/step,
peak_rss_mb), or FAILED and the error in place of the numbers. peak_rss_mb is the process's peak
resident memory (MB, Linux VmHWM) while building the model and running that row's steps, reset
before each row through /proc/self/clear_refs (where the kernel refuses that, the process's peak
so far, from getrusage); it includes PyTorch's library, whose resident size after `import torch`
with nothing built is printed once on the first line as library_rss_mb.
Usage: pytorch_reference.py --registry models.json [--threads 2] [--batches 32,128]
                            [--models a,b] [--mode train|infer|both] [--seconds 3]
"""

import argparse
import json
import re
import resource
import time
import warnings

# torch warns once that NumPy is missing; this script does not use it.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import pytorch_zoo  # noqa: E402


def family(name):
    """greenbench's family name for a registry model."""
    if name.startswith("mlp-"):
        return "mlp"
    if name.startswith("vit-") or name == "char-gpt":
        return "transformer"
    return "cnn"


def status_mb(field):
    """A `kB` line of /proc/self/status (VmRSS, VmHWM) in MB (10⁶ bytes), or None."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) * 1024 / 1e6 if m else None


def reset_peak():
    """Resets the peak resident size (VmHWM) to the current one; False where refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """Peak resident memory since the last reset_peak (or start-up), in MB."""
    hwm = status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # kB on Linux


def measure(model, shape, classes, text, mode, bs, seconds):
    """Samples per second of `mode` ("train" or "infer") at batch `bs`."""
    torch.manual_seed(0)
    if text:
        x = torch.randint(0, classes, (bs,) + shape)
        y = torch.randint(0, classes, (bs * shape[0],))
    else:
        x = torch.rand((bs,) + shape) * 2 - 1
        y = torch.randint(0, classes, (bs,))

    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
            loss.backward()
            opt.step()
            return loss.item()

    else:
        model.eval()

        def step():
            with torch.no_grad():
                logits = model(x)
                logits = logits.reshape(-1, logits.shape[-1])
                loss = F.cross_entropy(logits, y)
                correct = (logits.argmax(-1) == y).sum()
                return loss.item(), correct.item()

    step()
    start, steps = time.perf_counter(), 0
    while steps < 1 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps * bs / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", required=True, help="output of `greenbench models --json`")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--models", default=",".join(pytorch_zoo.MODELS))
    ap.add_argument("--mode", choices=["train", "infer", "both"], default="train")
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    with open(a.registry) as f:
        registry = {m["name"]: m for m in json.load(f)}
    modes = ["train", "infer"] if a.mode == "both" else [a.mode]
    batches = [int(b) for b in a.batches.split(",")]
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    library = status_mb("VmRSS")
    library = f"{library:.0f}" if library is not None else "-"
    print(
        f"threads={a.threads} torch={torch.__version__} simd={torch.backends.cpu.get_cpu_capability()} "
        f"library_rss_mb={library}"
    )
    print(f"{'model':<16} {'family':<12} {'mode':<6} {'batch':>6} {'samples/s':>12} {'ms/step':>10} {'peak_rss_mb':>12}")
    for name in (n.strip() for n in a.models.split(",")):
        fam = family(name)

        def fail(message):
            for mode in modes:
                for bs in batches:
                    print(f"{name:<16} {fam:<12} {mode:<6} {bs:>6} FAILED {message}", flush=True)

        if name not in pytorch_zoo.MODELS:
            fail("no PyTorch definition in pytorch_zoo.py")
            continue
        if name not in registry:
            fail("not in greenbench's registry (--registry)")
            continue
        try:
            model, shape, classes, text = pytorch_zoo.build(name)
        except Exception as e:  # a broken definition is one model's failure, not the run's
            fail(f"building it failed: {e!r}")
            continue
        ours, theirs = pytorch_zoo.params(model), registry[name]["params"]
        if ours != theirs:
            fail(f"param mismatch: PyTorch {ours} vs greenbench {theirs} parameters")
            continue
        for mode in modes:
            for bs in batches:
                reset_peak()
                try:
                    model = pytorch_zoo.build(name)[0]  # fresh, as greenbench's Trainer per row
                    sps = measure(model, shape, classes, text, mode, bs, a.seconds)
                except Exception as e:
                    message = repr(e).replace("\n", " ")
                    print(f"{name:<16} {fam:<12} {mode:<6} {bs:>6} FAILED {message}", flush=True)
                    continue
                del model  # its memory is not the next row's
                print(
                    f"{name:<16} {fam:<12} {mode:<6} {bs:>6} {sps:>12.1f} {1000 * bs / sps:>10.2f} "
                    f"{peak_rss_mb():>12.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
