#!/usr/bin/env bash
# Training throughput (samples/s) per family with candle, release build.
# Usage: scripts/bench/train-throughput.sh [--threads N] [--batches 32,128] [--models a,b] [--seconds S] [--device cuda:0]
# Compare with scripts/bench/train-throughput-torch.py (same models, batches and threads) when a
# PyTorch venv is available. No assertions: this prints numbers for the record.
set -euo pipefail
cd "$(dirname "$0")/../.."
features=()
for a in "$@"; do [[ "$a" == cuda* ]] && features=(--features cuda); done
cargo run --release -q -p greenbench-models "${features[@]}" --example train_throughput -- "$@"
