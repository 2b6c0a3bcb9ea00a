#!/usr/bin/env python3
"""Builds compare.sh's table from the raw outputs of one comparison and writes it into
docs/performance.md (between `<!-- compare:begin -->` and `<!-- compare:end -->`).

Usage: compare_table.py OUT_DIR REGISTRY_JSON THREADS WRITE(0|1) COMMAND_LINE
OUT_DIR holds gb.<round>.txt (train_throughput), pt-default.<round>.txt and pt-passive.<round>.txt
(pytorch_reference.py with either OpenMP wait policy), gemm.<round>.txt (gemm_peak), load.txt and rows.txt (the model, mode and
batch of every row wanted, in order). `python3 -m doctest compare_table.py` runs the examples.
"""

import datetime
import glob
import os
import platform
import re
import subprocess
import sys

MODES = ("train", "infer")


def parse_rows(text):
    """Rows of a throughput table: {(model, mode, batch): samples/s or "error text"}.

    >>> parse_rows("model family mode batch samples/s ms/step\\n"
    ...            "lenet cnn train 32 4716.6 6.78\\n"
    ...            "vgg16 cnn infer 128 FAILED out of memory")
    {('lenet', 'train', 32): 4716.6, ('vgg16', 'infer', 128): 'out of memory'}
    """
    rows = {}
    for line in text.splitlines():
        p = line.split()
        if len(p) < 5 or p[2] not in MODES or not p[3].isdigit():
            continue
        key = (p[0], p[2], int(p[3]))
        if p[4] == "FAILED":
            rows[key] = " ".join(p[5:]) or "failed"
        else:
            try:
                rows[key] = float(p[4])
            except ValueError:
                rows[key] = " ".join(p[4:])
    return rows


def parse_rss(text):
    """Peak resident memory (MB) per row of a throughput table, where its peak_rss_mb column has
    a number: {(model, mode, batch): MB}.

    >>> parse_rss("model family mode batch samples/s ms/step peak_rss_mb\\n"
    ...           "lenet cnn train 32 4716.6 6.78 812\\n"
    ...           "vgg16 cnn infer 128 FAILED out of memory\\n"
    ...           "mlp mlp train 32 9.0 1.0 -\\n"
    ...           "old cnn train 32 9.0 1.0")
    {('lenet', 'train', 32): 812.0}
    """
    rows = {}
    for line in text.splitlines():
        p = line.split()
        if len(p) < 7 or p[2] not in MODES or not p[3].isdigit() or p[4] == "FAILED":
            continue
        try:
            rows[(p[0], p[2], int(p[3]))] = float(p[6])
        except ValueError:
            continue
    return rows


def lowest(runs):
    """Per row, the lowest peak RSS over `runs` (dicts from parse_rss).

    >>> lowest([{("a", "train", 32): 900.0}, {("a", "train", 32): 850.0, ("b", "train", 8): 1.0}])
    {('a', 'train', 32): 850.0, ('b', 'train', 8): 1.0}
    """
    out = {}
    for rows in runs:
        for key, v in rows.items():
            out[key] = min(out.get(key, v), v)
    return out


def library_rss(texts):
    """The lowest `library_rss_mb=` figure (PyTorch's resident size after `import torch`) in
    pytorch_reference.py outputs, or None.

    >>> library_rss(["threads=2 torch=2.5 simd=AVX512 library_rss_mb=812\\n", "library_rss_mb=-"])
    812.0
    """
    found = [float(m) for t in texts for m in re.findall(r"library_rss_mb=([0-9.]+)", t)]
    return min(found) if found else None


def best(runs):
    """Per row, the highest samples/s over `runs` (dicts from parse_rows); an error only where
    no run has a number, and then the first error.

    >>> best([{("a", "train", 32): 5.0}, {("a", "train", 32): 7.0, ("b", "infer", 32): "boom"}])
    {('a', 'train', 32): 7.0, ('b', 'infer', 32): 'boom'}
    """
    out = {}
    for rows in runs:
        for key, v in rows.items():
            old = out.get(key)
            if isinstance(v, float):
                out[key] = max(old, v) if isinstance(old, float) else v
            elif old is None:
                out[key] = v
    return out


def gflops(macs_per_sample, mode, samples_per_s):
    """Achieved GFLOP/s: 2 FLOP per multiply-accumulate, training counted as 3 forward passes
    (forward, input gradient, weight gradient).

    >>> gflops(1e9, "train", 10.0)
    60.0
    >>> gflops(1e9, "infer", 10.0)
    20.0
    """
    passes = 3 if mode == "train" else 1
    return passes * 2.0 * macs_per_sample * samples_per_s / 1e9


def gemm_peak(texts):
    """The best `peak <GFLOP/s>` line over gemm_peak outputs, or None.

    >>> gemm_peak(["shape ...\\npeak 101.5\\n", "peak 99.0"])
    101.5
    """
    peaks = [float(m) for t in texts for m in re.findall(r"^peak (\S+)", t, re.M)]
    return max(peaks) if peaks else None


def plural(n, word, many=None):
    """`1 round`, `2 rounds`; `many` is the plural where it is not `word` + s.

    >>> plural(1, "round"), plural(2, "round"), plural(2, "busy process", "busy processes")
    ('1 round', '2 rounds', '2 busy processes')
    """
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def cell(v):
    """A samples/s cell: the number, or – when it is missing or an error."""
    return f"{v:.1f}" if isinstance(v, float) else "–"


def mb_cell(mb, mode):
    """A peak-RSS cell: MB for a training row, – otherwise or when not measured."""
    return f"{mb:.0f}" if mode == "train" and mb is not None else "–"


def flop_cell(macs, mode, v, peak):
    """`GFLOP/s (% of peak)`, or – without a number."""
    if not isinstance(v, float) or macs is None:
        return "–"
    g = gflops(macs, mode, v)
    return f"{g:.1f} ({100 * g / peak:.0f} %)" if peak else f"{g:.1f}"


def table(wanted, gb, pt, macs, peak, missing=None, rss=None):
    """The markdown rows for `wanted` [(model, mode, batch)] from the best results `gb` and `pt`.

    `missing` {(tool, model): text} explains rows a tool printed nothing for ("gb" or "pt").
    `rss` {"gb": {...}, "pt": {...}}: each tool's peak RSS per row (MB), shown for training rows.

    >>> print("\\n".join(table([("m", "train", 32)], {("m", "train", 32): 20.0},
    ...                        {("m", "train", 32): 10.0}, {"m": 1e9}, 200.0,
    ...                        rss={"gb": {("m", "train", 32): 400.0}})[2:]))
    | m | 32 | train | 20.0 | 10.0 | **2.00** | 120.0 (60 %) | 60.0 (30 %) | 400 | – |  |
    >>> print(table([("m", "infer", 32)], {}, {("m", "infer", 32): "boom"}, {}, None,
    ...             {("gb", "m"): "exited with status 134"})[2])
    | m | 32 | infer | – | – | – | – | – | – | – | greenbench: exited with status 134; PyTorch: boom |
    """
    missing = missing or {}
    rss = rss or {}
    lines = [
        "| model | batch | mode | greenbench samples/s | PyTorch samples/s | ratio "
        "| greenbench GFLOP/s (% of peak) | PyTorch GFLOP/s (% of peak) "
        "| greenbench peak RSS (MB) | PyTorch peak RSS (MB) | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in wanted:
        model, mode, bs = key
        a = gb.get(key, missing.get(("gb", model), "no output"))
        b = pt.get(key, missing.get(("pt", model), "no output"))
        ratio = f"**{a / b:.2f}**" if isinstance(a, float) and isinstance(b, float) else "–"
        notes = []
        for tool, v in (("greenbench", a), ("PyTorch", b)):
            if not isinstance(v, float):
                notes.append(f"{tool}: {v[:120]}")
        m = macs.get(model)
        lines.append(
            f"| {model} | {bs} | {mode} | {cell(a)} | {cell(b)} | {ratio} "
            f"| {flop_cell(m, mode, a, peak)} | {flop_cell(m, mode, b, peak)} "
            f"| {mb_cell(rss.get('gb', {}).get(key), mode)} | {mb_cell(rss.get('pt', {}).get(key), mode)} "
            f"| {'; '.join(notes)} |"
        )
    return lines


def read(path):
    with open(path) as f:
        return f.read()


def conditions(text):
    """compare.sh's conditions.txt (`key=value` lines): the SIMD path and the number of busy
    background processes; an older output folder without the file means native and none.

    >>> conditions("simd=avx2\\nbackground=1\\n")
    {'simd': 'avx2', 'background': 1}
    >>> conditions("")
    {'simd': 'native', 'background': 0}
    """
    kv = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {"simd": kv.get("simd", "native"), "background": int(kv.get("background", "0"))}


def section_key(cpu, cond):
    """The docs/performance.md section a table belongs to: one per CPU model, SIMD path and
    background load.

    >>> section_key("Intel(R) Xeon(R) Processor", {"simd": "avx2", "background": 1})
    'Intel(R) Xeon(R) Processor · AVX2 path · 1 busy background process'
    >>> section_key("AMD EPYC", {"simd": "native", "background": 0})
    'AMD EPYC · native SIMD · no added load'
    """
    path = "AVX2 path" if cond["simd"] == "avx2" else "native SIMD"
    n = cond["background"]
    load = "no added load" if n == 0 else plural(n, "busy background process", "busy background processes")
    return f"{cpu} · {path} · {load}"


def replace_section(doc, key, text):
    """`doc` with the section between `<!-- compare:begin KEY -->` and `<!-- compare:end KEY -->`
    replaced by `text`; when absent, a new section (under a heading naming KEY) goes after the
    last comparison section, or at the end of a document that has none.

    >>> d = replace_section("# P\\n", "A", "one")
    >>> replace_section(d, "A", "two").count("two"), "one" in replace_section(d, "A", "two")
    (1, False)
    >>> e = replace_section(d + "## Other\\n", "B", "x")
    >>> e.index("compare:end A") < e.index("compare:begin B") < e.index("## Other"), "one" in e
    (True, True)
    >>> "-->\\n\\n## Other" in e
    True
    """
    begin, end = f"<!-- compare:begin {key} -->", f"<!-- compare:end {key} -->"
    if begin not in doc or end not in doc:
        section = f"### {key}\n\n{begin}\n{text}\n{end}\n"
        last = doc.rfind("<!-- compare:end ")
        if last < 0:
            return f"{doc.rstrip()}\n\n{section}"
        cut = doc.index("-->", last) + len("-->")
        rest = doc[cut:].lstrip(chr(10))
        return f"{doc[:cut]}\n\n{section}\n{rest}" if rest else f"{doc[:cut]}\n\n{section}"
    pre, rest = doc.split(begin, 1)
    post = rest.split(end, 1)[1]
    return f"{pre}{begin}\n{text}\n{end}{post}"


def main():
    out, registry_path, threads, write, command = sys.argv[1:6]
    import json

    registry = json.loads(read(registry_path))
    macs = {m["name"]: m["macs_per_sample"] for m in registry}
    wanted = []
    for line in read(os.path.join(out, "rows.txt")).splitlines():
        model, mode, bs = line.split()
        wanted.append((model, mode, int(bs)))

    def runs(prefix):
        return [parse_rows(read(f)) for f in sorted(glob.glob(os.path.join(out, prefix + ".*.txt")))]

    # compare.sh writes <tool>.<model>.fail when a tool's process for a model exits non-zero.
    missing = {}
    for f in glob.glob(os.path.join(out, "*.fail")):
        tool, model = os.path.basename(f)[: -len(".fail")].split(".", 1)
        missing[(tool, model)] = read(f).strip().replace("\n", " ")
    def rss_runs(prefix):
        return [parse_rss(read(f)) for f in sorted(glob.glob(os.path.join(out, prefix + ".*.txt")))]

    rss = {"gb": lowest(rss_runs("gb")), "pt": lowest(rss_runs("pt-*"))}
    library = library_rss([read(f) for f in glob.glob(os.path.join(out, "pt-*.txt"))])
    gb = best(runs("gb"))
    pt_default = best(runs("pt-default"))
    pt_passive = best(runs("pt-passive"))
    pt = best([pt_default, pt_passive])
    won = {"default": 0, "passive": 0}
    for key in wanted:
        d, p = pt_default.get(key), pt_passive.get(key)
        if isinstance(d, float) and isinstance(p, float):
            won["default" if d >= p else "passive"] += 1
    rounds = {
        policy: len({f.rsplit(".", 2)[1] for f in glob.glob(os.path.join(out, f"pt-{policy}.*.txt"))})
        for policy in ("default", "passive")
    }
    peak = gemm_peak([read(f) for f in glob.glob(os.path.join(out, "gemm.*.txt"))])
    torch_version, torch_simd, gb_simd, gb_gemm = "?", "?", "?", "?"
    for f in glob.glob(os.path.join(out, "pt-*.txt")):
        m = re.search(r"torch=(\S+)", read(f))
        if m:
            torch_version = m.group(1)
        m = re.search(r"simd=(\S+)", read(f))
        if m:
            torch_simd = m.group(1)
    for f in glob.glob(os.path.join(out, "gb.*.txt")):
        m = re.search(r"simd=(\S+)", read(f))
        if m:
            gb_simd = m.group(1)
        m = re.search(r"gemm=(\S+)", read(f))
        if m:
            gb_gemm = m.group(1)
    cpu = "?"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    candle = "?"
    lock = read("Cargo.lock")
    m = re.search(r'name = "candle-core"\nversion = "([^"]+)"', lock)
    if m:
        candle = m.group(1)
    held = [f"{k}={os.environ[k]}" for k in ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS") if k in os.environ]
    held_to = f", {', '.join(held)}" if held else ""
    cond_path = os.path.join(out, "conditions.txt")
    cond = conditions(read(cond_path) if os.path.exists(cond_path) else "")
    background = (
        "no other process started by the script"
        if cond["background"] == 0
        else f"{plural(cond['background'], 'busy process', 'busy processes')} (`nice -n 19`, a Python loop each) "
        "running beside both tools throughout"
    )
    loads = [line.strip() for line in read(os.path.join(out, "load.txt")).splitlines()]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    peak_text = f"{peak:.1f} GFLOP/s" if peak else "not measured (gemm_peak gave no number)"
    # Where gemm runs AVX2, tall products and weight gradients' token parts run on greenbench's
    # own panel kernel (crates/models/src/ops/panel_product.rs).
    products_note = " and greenbench's panel kernel" if gb_gemm == "avx2" else ""
    head = [
        f"Measured {now} with `{command}`: {cpu}, {os.cpu_count()} cores, {threads} threads for "
        f"both tools; {rustc}, candle {candle} (patched, `vendor/`), PyTorch {torch_version} (CPU "
        f"kernels: {torch_simd}{held_to}; greenbench's element-wise kernels: {gb_simd}, matrix products: gemm {gb_gemm}{products_note}); background load: {background}; Python {platform.python_version()}. Synthetic data; training is SGD (momentum "
        f"0.9, weight decay 5e-4), inference is eval mode without gradients (what a sweep's "
        f"inference phase runs). Each row is the best of the rounds, run alternately; PyTorch: "
        f"best of its runs with the default OpenMP wait policy ({plural(rounds['default'], 'round')}) "
        f"and with OMP_WAIT_POLICY=PASSIVE ({plural(rounds['passive'], 'round')}); passive was better in "
        f"{won['passive']} rows, default in {won['default']}; greenbench: "
        f"CANDLE_BARRIER_POOL_SPIN_LIMIT=0.",
        "",
        f"Load average (1, 5, 15 min) before, between and after the rounds: {'; '.join(loads)} "
        "(the machine is shared with other builds, so absolute numbers are low and noisy; the "
        "ratio greenbench/PyTorch is the figure of merit).",
        "",
        f"GFLOP/s = forward multiply-accumulates per sample (`greenbench models --json`, "
        f"convolutions and linear layers only) × 2 FLOP × samples/s, × 3 for training (forward, "
        f"input and weight gradients); a sample is one image, or for char-gpt one sequence of 64 "
        f"tokens, on both sides. % of peak: of the best f32 matrix product this machine reached "
        f"with the `gemm` crate on {threads} threads during the run "
        f"(`crates/models/examples/gemm_peak.rs`): {peak_text}.",
        "",
        "Peak RSS (training rows): the process's peak resident memory while building the model "
        "and running that row (Linux VmHWM, reset before each row; lowest of the rounds), library "
        "included. PyTorch's library alone (resident after `import torch`, nothing built): "
        + (f"{library:.0f} MB" if library is not None else "not measured")
        + "; greenbench's runs with MIMALLOC_PURGE_DELAY=-1, as the sweep's workers "
        "(docs/performance.md, Activation memory).",
        "",
    ]
    text = "\n".join(head + table(wanted, gb, pt, macs, peak, missing, rss))
    print(text)
    if write == "1":
        path = "docs/performance.md"
        doc = read(path) if os.path.exists(path) else "# Performance\n"
        key = section_key(cpu, cond)
        with open(path, "w") as f:
            f.write(replace_section(doc, key, text))
        print(f"wrote the section '{key}' of {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
