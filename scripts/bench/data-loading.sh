#!/usr/bin/env bash
# What a worker spends loading its dataset before the first step: wall time of
# greenbench_data::load and the process's peak resident memory, one fresh process per dataset
# (as each worker is), three times each. Target for fashion-mnist-32: ≤ 0.5 s and ≤ 250 MB.
# Usage: scripts/bench/data-loading.sh [dataset…]   (default: fashion-mnist-32 fashion-mnist mnist-10k digits moby-dick)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -q --release -p greenbench-data --example load_timing
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(fashion-mnist-32 fashion-mnist mnist-10k digits moby-dick)
echo "# $(date -u +%F) · $(nproc) cores · load average $(cut -d' ' -f1-3 /proc/loadavg)"
for name in "${names[@]}"; do
  for _ in 1 2 3; do
    "$CARGO_TARGET_DIR/release/examples/load_timing" "$name"
  done
done
