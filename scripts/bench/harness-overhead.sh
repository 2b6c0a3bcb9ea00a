#!/usr/bin/env bash
# Harness overhead per run: worker spawn, dataset load, model build, warmup-free setup, validation
# and record write — everything a run costs beyond its metered training and inference windows.
# Runs a sweep of small runs on the committed digits dataset (release build) and prints, per run,
# wall time (started_at → finished_at) minus training and inference durations from the records.
#
#   scripts/bench/harness-overhead.sh [runs-per-model]     # default 4 → 8 runs
# Goal: under 1 s per run for the small datasets.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps="${1:-4}"
cargo build --release --quiet
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cat > "$work/overhead.toml" <<TOML
name = "overhead"
dataset = "digits"
threads = 1
epochs = 1
repeats = $reps
warmup_batches = 0
idle_seconds = 0
[grid]
model = ["mlp-small", "mlp-64"]
batch_size = 64
lr = 0.05
TOML
start=$(date +%s.%N)
target/release/greenbench sweep "$work/overhead.toml" --out "$work/out" --quiet
end=$(date +%s.%N)
python3 - "$work/out/runs.jsonl" "$start" "$end" <<'PY'
import json, sys, datetime, statistics
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
over = []
for r in recs:
    wall = t(r["finished_at"]) - t(r["started_at"])
    metered = r["train"]["duration_s"] + r["inference"]["duration_s"]
    over.append(wall - metered)
    print(f'{r["spec"]["model"]:<10} wall {wall:6.3f} s  metered {metered:6.3f} s  overhead {wall - metered:6.3f} s')
total = float(sys.argv[3]) - float(sys.argv[2])
print(f"runs: {len(recs)}; overhead per run: mean {statistics.mean(over):.3f} s, max {max(over):.3f} s "
      f"(goal < 1 s); whole sweep {total:.1f} s incl. process start and manifest")
PY
