#!/usr/bin/env bash
# Training throughput (samples/s) per family with candle, release build.
# Usage: scripts/bench/train-throughput.sh [--threads N] [--batches 32,128] [--models a,b] [--seconds S] [--device cuda:0]
# scripts/bench/compare.sh runs this and scripts/bench/pytorch_reference.py (same models, batches
# and threads) and writes the ratios to docs/performance.md. No assertions: numbers for the record.
set -euo pipefail
cd "$(dirname "$0")/../.."
features=()
for a in "$@"; do [[ "$a" == cuda* ]] && features=(--features cuda); done
cargo run --release -q -p greenbench-models "${features[@]}" --example train_throughput -- "$@"
