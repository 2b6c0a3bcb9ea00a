#!/usr/bin/env bash
# Throughput, greenbench (candle) vs PyTorch: every registry model, training and inference, same
# batches and threads, and how far each is from this machine's matrix-product peak.
#
# Usage: scripts/bench/compare.sh [--threads 2] [--batches 32,128] [--seconds 3] [--rounds 2]
#                                 [--models a,b,...] [--modes train,infer]
#                                 [--policies both|alternate] [--simd native|avx2]
#                                 [--background N] [--no-write]
# --models defaults to every model `greenbench models --json` lists, --modes to both.
# --policies alternate runs PyTorch with one OpenMP wait policy per round (PASSIVE in odd rounds,
# default in even ones) instead of both in every round: a third less time, and with 2 rounds still
# the better of the two policies per row, each measured once.
# Creates .venv-bench (PyTorch from PyPI, a few minutes, git-ignored) on first use and builds the
# greenbench binary and the release examples train_throughput and gemm_peak. Each round measures
# the f32 GEMM peak (gemm_peak), then model by model greenbench and PyTorch (the latter once per
# OpenMP wait policy, default and PASSIVE), the tools' order alternating between rounds (the
# machine is shared: interleaving spreads other people's load over both). Every row keeps its
# best round. Training rows also show each tool's peak resident memory (the lowest round; both
# tools print it per row) and PyTorch's library size once above the table: one model per process
# keeps a row's figure its own. PyTorch's script refuses a model whose parameter count differs
# from greenbench's.
# A model that fails on one side gives a row with "–" and the error; the run goes on.
# --simd avx2 measures the AVX2 path on a CPU with AVX-512, the stand-in for CPUs without it:
# greenbench's examples built without the `gemm-avx512` feature (matrix products on gemm's AVX2
# kernels and greenbench's own for tall ones; a separate build in target/bench-avx2) and run with GREENBENCH_SIMD=avx2 (element-wise
# kernels), PyTorch with ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2 and
# MKL_ENABLE_INSTRUCTIONS=AVX2 (ATen alone would leave oneDNN's convolutions on AVX-512). --background N runs N low-priority busy
# processes (`nice -n 19`, a Python loop each) beside both tools for the whole comparison: speed
# on a machine that is not idle.
# Prints the table and, unless --no-write, replaces the section of docs/performance.md for this
# CPU, SIMD path and background load (one section each, made on first use) with it (machine,
# versions, load averages, date and this command line).
set -euo pipefail
cd "$(dirname "$0")/../.."
command_line="scripts/bench/compare.sh${*:+ $*}"

threads=2 batches=32,128 seconds=3 rounds=2 write=1 models="" modes=train,infer policies=both
simd=native background=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --policies) policies=$2; shift 2 ;;
    --simd) simd=$2; shift 2 ;;
    --background) background=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$modes" in
  train) mode=train ;;
  infer) mode=infer ;;
  train,infer | infer,train) mode=both ;;
  *) echo "--modes $modes: expected train, infer or train,infer" >&2; exit 2 ;;
esac
case "$policies" in
  both | alternate) ;;
  *) echo "--policies $policies: expected both or alternate" >&2; exit 2 ;;
esac
case "$simd" in
  native | avx2) ;;
  *) echo "--simd $simd: expected native or avx2" >&2; exit 2 ;;
esac
if [[ ! $background =~ ^[0-9]+$ ]]; then
  echo "--background $background: expected a number of busy processes (0, 1, ...)" >&2; exit 2
fi

venv=.venv-bench
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c 'import torch' 2>/dev/null; then
  echo "creating $venv with PyTorch (once, a few minutes)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch
fi

cargo build --release --locked -q -p greenbench --bin greenbench
examples=target/release/examples
if [[ $simd == avx2 ]]; then
  cargo build --release --locked -q -p greenbench-models --no-default-features \
    --target-dir target/bench-avx2 --example train_throughput --example gemm_peak
  examples=target/bench-avx2/release/examples
  # PyTorch: ATen's own kernels, oneDNN's (convolutions; it picks its ISA apart from ATen and
  # uses AVX-512 or more otherwise) and MKL's (matrix products) all held to AVX2.
  export GREENBENCH_SIMD=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
else
  cargo build --release --locked -q -p greenbench-models --example train_throughput --example gemm_peak
fi
out=$(mktemp -d)
busy=()
stop_busy() { ((${#busy[@]})) && kill "${busy[@]}" 2>/dev/null; wait "${busy[@]}" 2>/dev/null || true; }
trap 'stop_busy; rm -rf "$out"' EXIT
for _ in $(seq 1 "$background"); do
  nice -n 19 python3 -c 'while True: pass' &
  busy+=($!)
done
printf 'simd=%s\nbackground=%s\n' "$simd" "$background" >"$out/conditions.txt"
target/release/greenbench models --json >"$out/registry.json"
if [[ -z $models ]]; then
  models=$(python3 -c 'import json, sys; print(",".join(m["name"] for m in json.load(open(sys.argv[1]))))' "$out/registry.json")
fi
IFS=, read -ra model_list <<<"$models"
IFS=, read -ra batch_list <<<"$batches"
IFS=, read -ra mode_list <<<"$modes"
for m in "${model_list[@]}"; do
  for md in "${mode_list[@]}"; do
    for b in "${batch_list[@]}"; do echo "$m $md $b"; done
  done
done >"$out/rows.txt"

# One process per model and tool, so a crash costs that model's rows only; a non-zero exit is
# recorded in <tool>.<model>.fail with the last line of its stderr.
args=(--threads "$threads" --batches "$batches" --mode "$mode" --seconds "$seconds")
note_failure() { # tool model status stderr-file
  echo "exited with status $3: $(tail -n 1 "$4" 2>/dev/null)" >"$out/$1.$2.fail"
}
# candle's thread pool busy-waits between ops; on a loaded machine that steals the cores the
# work needs (see docs/performance.md). The example sets 0 unless the variable is already set.
run_gb() { # model round
  "$examples/train_throughput" "${args[@]}" --models "$1" \
    >"$out/gb.$1.$2.txt" 2>"$out/gb.$1.$2.err" || note_failure gb "$1" $? "$out/gb.$1.$2.err"
}
# PyTorch's OpenMP threads also spin between ops; run it with both wait policies and keep the
# better number per row, so the ratio is conservative.
run_pt() { # model round
  local policy status wanted=(passive default)
  if [[ $policies == alternate ]]; then
    if (($2 % 2)); then wanted=(passive); else wanted=(default); fi
  fi
  for policy in "${wanted[@]}"; do
    status=0
    if [[ $policy == passive ]]; then
      OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE "$venv/bin/python" scripts/bench/pytorch_reference.py \
        --registry "$out/registry.json" "${args[@]}" --models "$1" \
        >"$out/pt-$policy.$1.$2.txt" 2>"$out/pt-$policy.$1.$2.err" || status=$?
    else
      OMP_NUM_THREADS=$threads "$venv/bin/python" scripts/bench/pytorch_reference.py \
        --registry "$out/registry.json" "${args[@]}" --models "$1" \
        >"$out/pt-$policy.$1.$2.txt" 2>"$out/pt-$policy.$1.$2.err" || status=$?
    fi
    if ((status != 0)); then note_failure pt "$1" "$status" "$out/pt-$policy.$1.$2.err"; fi
  done
}
for r in $(seq 1 "$rounds"); do
  cut -d' ' -f1-3 /proc/loadavg >>"$out/load.txt"
  "$examples/gemm_peak" --threads "$threads" --repeats 3 --seconds 0.2 \
    >"$out/gemm.$r.txt" 2>&1 || echo "gemm_peak failed (round $r)" >&2
  for m in "${model_list[@]}"; do
    if ((r % 2)); then run_gb "$m" "$r"; run_pt "$m" "$r"; else run_pt "$m" "$r"; run_gb "$m" "$r"; fi
    echo "round $r/$rounds: $m done ($(date -u +%H:%M:%S))" >&2
  done
done
cut -d' ' -f1-3 /proc/loadavg >>"$out/load.txt"

python3 scripts/bench/compare_table.py "$out" "$out/registry.json" "$threads" "$write" "$command_line"
