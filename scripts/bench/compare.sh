#!/usr/bin/env bash
# Training throughput, greenbench (candle) vs PyTorch, same models, batches and threads.
#
# Usage: scripts/bench/compare.sh [--threads 2] [--batches 32,128] [--seconds 3] [--rounds 2]
#                                 [--models mlp-medium,lenet,resnet18,mobilenet-v2,vit-tiny,char-gpt]
#                                 [--no-write]
# Creates .venv-bench (PyTorch from PyPI, ~1.5 min, git-ignored) on first use, builds the release
# throughput example, then runs both tools --rounds times in alternating order (the machine is
# shared: interleaving spreads other people's load over both), keeping each row's best round.
# Prints the table and, unless --no-write, replaces the generated section of docs/performance.md
# with it (machine, versions, date and the load averages seen during the runs).
set -euo pipefail
cd "$(dirname "$0")/../.."

threads=2 batches=32,128 seconds=3 rounds=2 write=1
models=mlp-medium,lenet,resnet18,mobilenet-v2,vit-tiny,char-gpt
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

venv=.venv-bench
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c 'import torch' 2>/dev/null; then
  echo "creating $venv with PyTorch (once, ~1.5 min)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch
fi

cargo build --release -q -p greenbench-models --example train_throughput
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# candle's thread pool busy-waits between ops; on a loaded machine that steals the cores the
# work needs (see docs/performance.md). The example sets 0 unless the variable is already set.
args=(--threads "$threads" --batches "$batches" --models "$models" --seconds "$seconds")
run_gb() { target/release/examples/train_throughput "${args[@]}" >"$out/gb.$1.txt"; }
# PyTorch's OpenMP threads also spin between ops; run it with both wait policies and keep the
# better number per row, so the ratio is conservative.
run_pt() {
  OMP_NUM_THREADS=$threads "$venv/bin/python" scripts/bench/pytorch_reference.py "${args[@]}" >"$out/pt.$1a.txt"
  OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE "$venv/bin/python" scripts/bench/pytorch_reference.py "${args[@]}" >"$out/pt.$1b.txt"
}
for r in $(seq 1 "$rounds"); do
  cut -d' ' -f1-3 /proc/loadavg >>"$out/load.txt"
  if (( r % 2 )); then run_gb "$r"; run_pt "$r"; else run_pt "$r"; run_gb "$r"; fi
  echo "round $r/$rounds done" >&2
done
cut -d' ' -f1-3 /proc/loadavg >>"$out/load.txt"

python3 - "$out" "$threads" "$write" <<'EOF'
import glob, os, platform, re, subprocess, sys, datetime
out, threads, write = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

def best(prefix):
    rows = {}
    for f in sorted(glob.glob(os.path.join(out, prefix + ".*.txt"))):
        for line in open(f):
            p = line.split()
            if len(p) == 5 and p[2].isdigit():
                key = (p[0], int(p[2]))
                rows[key] = max(rows.get(key, 0.0), float(p[3]))
    return rows

def version(prefix):
    for f in glob.glob(os.path.join(out, prefix + ".*.txt")):
        m = re.search(r"torch=(\S+)", open(f).read())
        if m:
            return m.group(1)
    return "?"

gb, pt = best("gb"), best("pt")
order = []
for k in list(gb) + list(pt):
    if k not in order:
        order.append(k)
lines = ["| model | batch | greenbench samples/s | PyTorch samples/s | ratio |", "|---|---|---|---|---|"]
for k in order:
    a, b = gb.get(k), pt.get(k)
    ratio = f"{a / b:.2f}" if a and b else "–"
    fa = f"{a:.1f}" if a else "–"
    fb = f"{b:.1f}" if b else "–"
    lines.append(f"| {k[0]} | {k[1]} | {fa} | {fb} | **{ratio}** |")
loads = [l.strip() for l in open(os.path.join(out, "load.txt"))]
cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip()
        break
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
head = [
    f"Measured {now} by `scripts/bench/compare.sh`: {cpu}, {os.cpu_count()} cores, {threads} threads "
    f"for both tools; {rustc}, candle 0.11.1, PyTorch {version('pt')} (CPU kernels), Python "
    f"{platform.python_version()}. Synthetic data, SGD (momentum 0.9, weight decay 5e-4); each row "
    f"is the best of the rounds, run alternately (PyTorch: best of the default and passive OpenMP "
    f"wait policies; greenbench: CANDLE_BARRIER_POOL_SPIN_LIMIT=0).",
    f"Load average (1, 5, 15 min) before, between and after the rounds: {'; '.join(loads)} "
    "(the machine is shared with other builds, so absolute numbers are low and noisy; the ratio is "
    "the figure of merit).",
    "",
]
table = "\n".join(head + lines)
print(table)
if write:
    path = "docs/performance.md"
    begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
    text = open(path).read() if os.path.exists(path) else f"# Performance\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    pre, rest = text.split(begin, 1)
    post = rest.split(end, 1)[1] if end in rest else ""
    open(path, "w").write(f"{pre}{begin}\n{table}\n{end}{post}")
    print(f"wrote {path}", file=sys.stderr)
EOF
