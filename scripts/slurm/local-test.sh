#!/usr/bin/env bash
# End-to-end check of greenbench's Slurm scale-out on a one-node Slurm cluster on localhost.
#
# Installs Debian's slurm-wlm and munge if missing (apt-get), starts munged (if not running),
# slurmctld and slurmd with a minimal slurm.conf in a temp dir (no cgroups, no accounting),
# builds greenbench, then for a tiny config (committed digits dataset, 4 MLP runs, 1 epoch,
# idle_seconds = 0):
#   1. `greenbench slurm --shards 2` → job.sbatch; `bash job.sbatch` submits the 2-task array and
#      the dependent merge job; waits; checks the merged run ids equal `sweep --dry-run --json`'s;
#   2. deletes the merged files and resubmits with plain `sbatch job.sbatch` (task 0 queues the
#      merge job; every task resumes, so nothing reruns); checks again.
# Stops the daemons it started (trap) and prints PASS or FAIL with the time taken.
#
# Needs root (packages, daemons). Usage:
#   scripts/slurm/local-test.sh            # builds target/release/greenbench (a no-op when fresh,
#                                          # e.g. right after `cargo test --workspace --release`)
#   GREENBENCH=/path/to/greenbench scripts/slurm/local-test.sh   # no build
# KEEP=1 keeps the temp dir; it is always kept on failure.
set -euo pipefail
SECONDS=0
repo=$(cd "$(dirname "$0")/../.." && pwd)

fail() {
    echo "FAIL: $* (after ${SECONDS} s)" >&2
    exit 1
}
[ "$#" = 0 ] || fail "takes no arguments (got '$*'); set GREENBENCH=/path/to/greenbench to skip the build"
[ "$(id -u)" = 0 ] || fail "needs root: it installs slurm-wlm/munge and runs slurmctld/slurmd as root"

# --- packages --------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    fail "a slurmctld or slurmd already runs on this machine; this test starts its own cluster, stop those first"
fi

# --- temp dir and cleanup --------------------------------------------------------------------
T=$(mktemp -d /tmp/greenbench-slurm.XXXXXX)
chmod 755 "$T"
export SLURM_CONF=$T/slurm.conf
started_munged=
ok=
cleanup() {
    set +e
    if [ -f "$T/slurmctld.pid" ]; then
        squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null
    fi
    for d in slurmd slurmctld; do
        if [ -f "$T/$d.pid" ]; then
            pid=$(cat "$T/$d.pid")
            kill "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null
        fi
    done
    if [ -n "$started_munged" ] && [ -f /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null
    fi
    if [ -z "$ok" ]; then
        echo "--- job outputs"; tail -n 30 "$T"/work/*.out 2>/dev/null
        echo "--- slurmctld.log"; tail -n 20 "$T/slurmctld.log" 2>/dev/null
        echo "--- slurmd.log"; tail -n 20 "$T/slurmd.log" 2>/dev/null
        echo "kept $T for inspection"
    elif [ -z "${KEEP:-}" ]; then
        rm -rf "$T"
    else
        echo "kept $T"
    fi
}
trap cleanup EXIT

# --- munge -----------------------------------------------------------------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "== starting munged"
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    munged --force 2>/dev/null || munged
    started_munged=1
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || fail "munged does not answer (munge -n | unmunge)"
fi

# --- slurm -----------------------------------------------------------------------------------
host=$(hostname -s)
mem_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 / 2 }' /proc/meminfo)
mkdir -p "$T/state" "$T/spool" "$T/work"
cat >"$SLURM_CONF" <<EOF
ClusterName=greenbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
echo "== starting slurmctld and slurmd ($SLURM_CONF)"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "${state:-}" = idle ] || fail "the node did not become idle (sinfo says '${state:-nothing}')"
echo "   node $host idle after ${SECONDS} s"

# --- greenbench ------------------------------------------------------------------------------
if [ -n "${GREENBENCH:-}" ]; then
    gb=$GREENBENCH
else
    echo "== cargo build --release"
    (cd "$repo" && cargo build --release --locked -q -p greenbench) || fail "cargo build --release failed"
    gb=${CARGO_TARGET_DIR:-$repo/target}/release/greenbench
fi
[ -x "$gb" ] || fail "no greenbench binary at $gb"
export GREENBENCH_DATASETS=$repo/datasets
cat >"$T/slurm-local.toml" <<'EOF'
# scripts/slurm/local-test.sh: 4 tiny runs on the committed digits dataset.
name = "slurm-local"
dataset = "digits"
threads = 1
epochs = 1
warmup_batches = 2
idle_seconds = 0
[grid]
model = ["mlp-small", "mlp-64x32"]
batch_size = [64, 128]
lr = 0.05
EOF
out=$T/out
"$gb" sweep "$T/slurm-local.toml" --dry-run --json |
    grep -o '"run_id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort >"$T/want.txt"
[ "$(wc -l <"$T/want.txt")" = 4 ] || fail "the dry run did not list 4 runs"
"$gb" slurm "$T/slurm-local.toml" --shards 2 --cpus-per-task 1 --time 10 --out "$out" >"$T/work/job.sbatch"
grep -q -- '--array=0-1' "$T/work/job.sbatch" || fail "job.sbatch has no --array=0-1 line"

wait_idle() { # wait until the queue is empty (pending, running, completing)
    for _ in $(seq 900); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    squeue
    fail "jobs still queued after 180 s"
}
job_state() { scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' '; }
check_shards() { # each of the 2 shard folders holds its 2 records and a manifest naming its shard
    for i in 0 1; do
        n=$(wc -l <"$out/shard-$i-of-2/runs.jsonl")
        [ "$n" = 2 ] || fail "$1: shard $i/2 holds $n records, expected 2${2:-}"
        grep -q '"shard"' "$out/shard-$i-of-2/manifest.json" || fail "$1: shard $i/2 manifest has no shard"
    done
}
check_merged() {
    [ -f "$out/runs.jsonl" ] || fail "$1: the merge job wrote no $out/runs.jsonl"
    grep -o '"run_id": *"[^"]*"' "$out/runs.jsonl" | sed 's/.*"\([^"]*\)"$/\1/' | sort >"$T/got.txt"
    diff "$T/want.txt" "$T/got.txt" >/dev/null ||
        fail "$1: merged run ids differ from the dry run's: $(diff "$T/want.txt" "$T/got.txt" | tr '\n' ' ')"
    grep -q '"shards"' "$out/manifest.json" || fail "$1: merged manifest lists no shards"
    echo "   $1: merged run ids = dry run's ($(tr '\n' ' ' <"$T/got.txt"))"
}

echo "== round 1: bash job.sbatch (submits the array, then the afterok merge job)"
cd "$T/work"
sub=$(bash job.sbatch) || fail "bash job.sbatch failed: $sub"
echo "$sub" | sed "s/^/   /"
array=$(echo "$sub" | sed -n 's/.*array job \([0-9]*\).*/\1/p')
merge=$(echo "$sub" | sed -n 's/.*merge job \([0-9]*\).*/\1/p')
[ -n "$array" ] && [ -n "$merge" ] || fail "could not read the job ids from: $sub"
scontrol -o show job "$merge" | grep -q "Dependency=afterok:$array" ||
    fail "merge job $merge does not depend on afterok:$array"
wait_idle
[ "$(job_state "$array")" = "JobState=COMPLETED " ] || fail "array job $array: $(job_state "$array")"
[ "$(job_state "$merge")" = "JobState=COMPLETED " ] || fail "merge job $merge: $(job_state "$merge")"
check_shards "round 1"
check_merged "round 1"

echo "== round 2: sbatch job.sbatch (task 0 queues the merge job; --resume skips finished runs)"
rm -f "$out/runs.jsonl" "$out/manifest.json"
sub=$(sbatch job.sbatch) || fail "sbatch job.sbatch failed: $sub"
echo "$sub" | sed "s/^/   /"
wait_idle
check_shards "round 2" " (resume should skip all)"
grep -q "queued merge job" "$T"/work/greenbench-slurm-local-*_0.out ||
    fail "round 2: task 0 did not queue the merge job"
check_merged "round 2"

echo "== round 3: an external command's sweep ([workload]) as a job array of 2 shards + merge"
cat >"$T/slurm-workload.toml" <<'EOF'
# scripts/slurm/local-test.sh: an external command (sh, speaking the line protocol) over two axes.
name = "slurm-workload"
model = ["tiny-a", "tiny-b"]
dataset = "none"
batch_size = 8
lr = 0.1
epochs = 1
threads = 1
idle_seconds = 0
[workload]
command = ["sh", "-c", "echo 'greenbench: event=epoch_start epoch=1'; sleep 0.3; echo 'greenbench: event=epoch_end epoch=1 loss=0.5'; echo {model} {width}"]
[workload.axes]
width = [1, 2]
EOF
out=$T/out-workload
"$gb" sweep "$T/slurm-workload.toml" --dry-run --json |
    grep -o '"run_id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort >"$T/want.txt"
[ "$(wc -l <"$T/want.txt")" = 4 ] || fail "round 3: the dry run did not list 4 runs"
mkdir -p "$T/work-workload"
cd "$T/work-workload"
"$gb" slurm "$T/slurm-workload.toml" --shards 2 --cpus-per-task 1 --time 10 --out "$out" >job.sbatch
sub=$(bash job.sbatch) || fail "round 3: bash job.sbatch failed: $sub"
echo "$sub" | sed "s/^/   /"
wait_idle
check_shards "round 3"
grep -q '"loss": *0.5' "$out/runs.jsonl" ||
    fail "round 3: the merged records hold no epoch loss from the command's protocol lines"
check_merged "round 3"

ok=1
echo "PASS: Slurm job array (2 shards) + dependent merge, both submission modes, and an external command's sweep, in ${SECONDS} s"
