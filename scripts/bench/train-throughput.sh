#!/usr/bin/env bash
# Training or inference throughput (samples/s) of registry models with candle, release build.
# Usage: scripts/bench/train-throughput.sh [--threads N] [--batches 32,128] [--models a,b] [--mode train|infer|both] [--seconds S] [--device cuda:0]
# scripts/bench/compare.sh runs the same example beside scripts/bench/pytorch_reference.py (same models, batches
# and threads) and writes the ratios to docs/performance.md. No assertions: numbers for the record.
set -euo pipefail
cd "$(dirname "$0")/../.."
features=()
for a in "$@"; do [[ "$a" == cuda* ]] && features=(--features cuda); done
cargo run --release -q -p greenbench-models "${features[@]}" --example train_throughput -- "$@"
