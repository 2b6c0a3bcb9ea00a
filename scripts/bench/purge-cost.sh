#!/usr/bin/env bash
# What mimalloc's purge setting costs in speed and saves in resident memory: the sweep's workers
# run with MIMALLOC_PURGE_DELAY=-1 (freed pages stay resident for reuse); mimalloc's default
# returns them to the OS after 10 ms. Times training of each model at each batch with each
# delay of --delays (milliseconds, -1 = never; the first is the reference), the order of the
# delays reversed every round, and prints per model and batch the best samples/s and the lowest
# peak RSS of each delay, with the speed ratio to the first.
#
# Usage: scripts/bench/purge-cost.sh [--models densenet121,googlenet,resnet18,mobilenet-v2]
#                                    [--batches 128] [--threads 2] [--seconds 5] [--rounds 3]
#                                    [--delays -1,10]
# Run it on a quiet machine (nothing else running): it is a speed measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
command_line="scripts/bench/purge-cost.sh${*:+ $*}"
models=densenet121,googlenet,resnet18,mobilenet-v2 batches=128 threads=2 seconds=5 rounds=3
delays=-1,10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --delays) delays=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
cargo build --release --locked -q -p greenbench-models --example train_throughput
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
IFS=, read -ra model_list <<<"$models"
IFS=, read -ra delay_list <<<"$delays"
run() { # delay model round
  MIMALLOC_PURGE_DELAY=$1 target/release/examples/train_throughput --threads "$threads" \
    --batches "$batches" --mode train --seconds "$seconds" --models "$2" >>"$out/delay$1.txt"
}
for r in $(seq 1 "$rounds"); do
  for m in "${model_list[@]}"; do
    if ((r % 2)); then order=("${delay_list[@]}"); else order=(); for d in "${delay_list[@]}"; do order=("$d" "${order[@]}"); done; fi
    for d in "${order[@]}"; do run "$d" "$m"; done
    echo "round $r/$rounds: $m done ($(date -u +%H:%M:%S))" >&2
  done
done
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "MIMALLOC_PURGE_DELAY ${delays//,/ vs } (ms), training, $threads threads, best of $rounds rounds of ≥ $seconds s: $cpu; $(date -u '+%Y-%m-%d %H:%M UTC'); command: $command_line"
python3 - "$out" "$delays" <<'PY'
import sys
from collections import defaultdict

def rows(path):
    best = defaultdict(lambda: [0.0, float("inf")])
    for line in open(path):
        p = line.split()
        # model family mode batch samples/s ms/step peak_rss_mb peak_heap_mb
        if len(p) >= 7 and p[2] == "train" and p[3].isdigit() and p[4] != "FAILED":
            key = (p[0], int(p[3]))
            best[key][0] = max(best[key][0], float(p[4]))
            best[key][1] = min(best[key][1], float(p[6]))
    return best

delays = sys.argv[2].split(",")
res = {d: rows(f"{sys.argv[1]}/delay{d}.txt") for d in delays}
ref = delays[0]
head = ["model", "batch"] + [f"samples/s, {d}" for d in delays]
head += [f"speed {d} / {ref}" for d in delays[1:]] + [f"peak RSS MB, {d}" for d in delays]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for key in sorted(set().union(*(r.keys() for r in res.values()))):
    got = [res[d].get(key) for d in delays]
    speed = [f"{g[0]:.1f}" if g else "–" for g in got]
    ratio = [f"**{g[0] / got[0][0]:.3f}**" if g and got[0] else "–" for g in got[1:]]
    rss = [f"{g[1]:.0f}" if g else "–" for g in got]
    print("| " + " | ".join([key[0], str(key[1])] + speed + ratio + rss) + " |")
PY
