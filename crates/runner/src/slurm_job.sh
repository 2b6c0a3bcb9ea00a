
set -euo pipefail
export GREENBENCH=${GREENBENCH:-@EXE@}
export GREENBENCH_CONFIG=@CONFIG@
export GREENBENCH_OUT=@OUT@
export GREENBENCH_DATASETS=${GREENBENCH_DATASETS:-@DATASETS@}
SHARDS=@SHARDS@
MERGE_OPTS=(@MERGE_OPTS@)
MERGE_CMD='exec "$GREENBENCH" merge --force "$GREENBENCH_OUT" "$GREENBENCH_OUT"/shard-*-of-@SHARDS@'

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    if [ -n "${SLURM_JOB_ID:-}" ] && [ "${SLURM_JOB_NAME:-}" = @NAME_Q@ ]; then
        echo "error: this job is not an array task; submit with 'sbatch job.sbatch' (keeps its --array line) or 'bash job.sbatch'" >&2
        exit 1
    fi
    # Submit mode (bash job.sbatch): queue the array, then the merge job that waits for all of it.
    command -v sbatch >/dev/null || { echo "error: sbatch not found; run this on a Slurm submit host" >&2; exit 1; }
    [ -f "$0" ] || { echo "error: run this script as a file: bash job.sbatch" >&2; exit 1; }
    export GREENBENCH_MERGE_QUEUED=1
    array=$(sbatch --parsable "$0")
    array=${array%%;*}
    merge=$(sbatch --parsable "${MERGE_OPTS[@]}" --dependency=afterok:"$array" --wrap "$MERGE_CMD")
    merge=${merge%%;*}
    echo "submitted array job $array ($SHARDS tasks) and merge job $merge (runs when every task succeeded)"
    echo "watch: squeue -j $array,$merge    merged results: $GREENBENCH_OUT"
    exit 0
fi

# Array task mode.
if [ "$SLURM_ARRAY_TASK_ID" -ge "$SHARDS" ]; then
    echo "error: array task $SLURM_ARRAY_TASK_ID but the sweep has $SHARDS shards (0-@LAST@)" >&2
    exit 1
fi
if [ "$SLURM_ARRAY_TASK_ID" = 0 ] && [ -z "${GREENBENCH_MERGE_QUEUED:-}" ]; then
    # Submitted with plain `sbatch job.sbatch`: the first task queues the merge job once.
    export GREENBENCH_MERGE_QUEUED=1
    if merge=$(sbatch --parsable "${MERGE_OPTS[@]}" --dependency=afterok:"$SLURM_ARRAY_JOB_ID" --wrap "$MERGE_CMD"); then
        echo "queued merge job ${merge%%;*} after array job $SLURM_ARRAY_JOB_ID"
    else
        echo "warning: could not queue the merge job from this node; when the array is done run: $GREENBENCH merge $GREENBENCH_OUT $GREENBENCH_OUT/shard-*-of-$SHARDS" >&2
    fi
fi
echo "greenbench shard $SLURM_ARRAY_TASK_ID/$SHARDS on $(hostname)"
exec "$GREENBENCH" sweep "$GREENBENCH_CONFIG" --shard "$SLURM_ARRAY_TASK_ID/@SHARDS@" --out "$GREENBENCH_OUT" --resume
