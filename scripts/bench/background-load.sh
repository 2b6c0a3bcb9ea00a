#!/usr/bin/env bash
# Training speed beside busy processes: greenbench with the pool spinner off and at several
# limits (GREENBENCH_POOL_SPIN_US, microseconds; 0 = off; auto = the default, spinning only
# while the CPU pressure stays low), each with the compute threads'
# scheduler slices in SLICES (GREENBENCH_SCHED_SLICE_US, microseconds; 0 = the kernel's
# default), against PyTorch with both OpenMP wait
# policies, the same models, batch and threads, rounds alternating, on a machine where nothing
# else runs.
#
# Usage: BG=1 NICE=19 ROUNDS=3 SPINS="0 300 3000 1000000" SLICES="0 100" MODELS=resnet18,mobilenet-v2 BATCH=32 \
#          scripts/bench/background-load.sh
# BG busy Python loops run beside every measurement at niceness NICE (19: low priority; 0: the
# same as the tools). Prints one line per measurement: tool, setting, round, model, samples/s.
# Needs .venv-bench (scripts/bench/compare.sh creates it) and a release build of the examples.
set -euo pipefail
cd "$(dirname "$0")/../.."
bg=${BG:-1} nice_level=${NICE:-19} rounds=${ROUNDS:-3} spins=${SPINS:-0 300 3000 1000000}
slices=${SLICES:-0}
models=${MODELS:-resnet18,mobilenet-v2} batch=${BATCH:-32} threads=${THREADS:-2}
cargo build --release --locked -q -p greenbench --bin greenbench
cargo build --release --locked -q -p greenbench-models --example train_throughput
registry=$(mktemp)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -f "$registry"' EXIT
target/release/greenbench models --json >"$registry"
for _ in $(seq 1 "$bg"); do
  nice -n "$nice_level" python3 -c 'while True: pass' &
  pids+=($!)
done
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(date -u '+%Y-%m-%d %H:%M UTC'); BG=$bg NICE=$nice_level ROUNDS=$rounds SPINS=\"$spins\" SLICES=\"$slices\" MODELS=$models BATCH=$batch THREADS=$threads"
for r in $(seq 1 "$rounds"); do
  for v in $spins; do
    for sl in $slices; do
      GREENBENCH_POOL_SPIN_US=$v GREENBENCH_SCHED_SLICE_US=$sl target/release/examples/train_throughput \
        --threads "$threads" --models "$models" --batches "$batch" --mode train --seconds 4 |
        awk -v v="$v" -v sl="$sl" -v r="$r" '$3 == "train" { print "greenbench spin=" v " slice=" sl, "round=" r, $1, $5 }'
    done
  done
  for policy in default PASSIVE; do
    env_policy=()
    [[ $policy == PASSIVE ]] && env_policy=(OMP_WAIT_POLICY=PASSIVE)
    env "${env_policy[@]}" OMP_NUM_THREADS="$threads" .venv-bench/bin/python scripts/bench/pytorch_reference.py \
      --registry "$registry" --threads "$threads" --models "$models" --batches "$batch" \
      --mode train --seconds 4 2>/dev/null |
      awk -v p="$policy" -v r="$r" '$3 == "train" { print "pytorch " p, "round=" r, $1, $5 }'
  done
done
