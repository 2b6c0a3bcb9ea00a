#!/usr/bin/env bash
# Cost of greenbench's 10 Hz energy sampler: the process CPU time spent while only the
# sampler runs, as a share of wall time (target ≤ 0.5 % of one core), and a busy loop's throughput
# with vs without the sampler. Sources: a fake powercap tree (real file reads) + CPU-time estimate.
# Usage: scripts/bench/sampler-overhead.sh [seconds]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_ARG="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo run -q --release -p greenbench-meter --example sampler_overhead -- "$SECONDS_ARG"
