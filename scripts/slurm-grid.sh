#!/usr/bin/env bash
# Runs an experiment grid as a Slurm job array: each array task runs one shard (`iwae grid --shard i/n`).
#
#   cd <repo> && make setup                       # once, on a node with the shared file system
#   node bin/iwae.js grid --profile paper --list | wc -l    # runs in the grid (80; 120 with --extras)
#   sbatch --array=1-20 scripts/slurm-grid.sh --profile paper --results /shared/iwae-runs            # 20 x 4 runs
#   sbatch --array=1-24 scripts/slurm-grid.sh --profile paper --results /shared/iwae-runs --extras   # with the ablations: 24 x 5 runs, one stack each
#   sbatch --array=3 scripts/slurm-grid.sh --shards 20 --profile paper --results /shared/iwae-runs  # shard 3/20 again
#
# Arguments (each may instead come from the environment; arguments win):
#   --profile NAME   (IWAE_PROFILE)      smoke, quick or paper. Required.
#   --results DIR    (IWAE_RESULTS_DIR)  results root, on a file system every node shares. Required.
#     Both are required because `sbatch --export=NONE` (or a site's SBATCH_EXPORT=NONE) drops the
#     environment; a task would otherwise train the default grid into the repository. Missing: exit 2.
#   --shards N       (IWAE_SHARDS)       split the grid into N shards; array task id i runs shard i/N, so
#     the ids must be in 1..N, and any subset may be submitted (--array=3, --array=1,3, --array=1-20%4).
#     Without it, N is the array's size, which then must be one range starting at 0 or 1 (0-19 or 1-20):
#     an array with gaps (1,3) or a lone resubmitted task (--array=3) is refused (exit 2), since its
#     shards cannot be told from the array.
#   --workers N      (IWAE_WORKERS)      worker processes per task (default 1). MNIST_DIR is passed on.
#   Anything else is passed on to `iwae grid` (e.g. --extras, --retry-failed).
#
# Logs: logs/iwae-grid-<job>_<task>.log (ignored by git). Slurm resolves the path against the submit
# directory and does not create directories (a missing one fails the task without any log): submit
# from the repo root, which ships logs/, or give sbatch your own --output.
#
# Exit status: 0 when every run of the shard has an outcome, also when some of them failed numerically
# (NaN/Inf; `iwae grid` exits 3): such a failure is a recorded result (the truncated-normal runs of
# --extras fail by design), rerunning does not change it, and the analysis reports it, so the task ends
# COMPLETED and `afterok` dependencies go on; the log says which runs failed. Errors (a run without an
# outcome, bad data) exit 1; a time limit or scancel exits 143: resubmit to retry or resume.
#
# Safe to resubmit: finished runs are skipped, interrupted runs resume from their last epoch, and runs
# are claimed by lock files, so overlapping tasks (or a task and a local `iwae grid`) never run one twice.
# A run held by a task whose node died is taken over once its lock has had no heartbeat for 5 minutes
# (the grid's log says so while it waits).
#SBATCH --job-name=iwae-grid
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=12:00:00
#SBATCH --output=logs/iwae-grid-%A_%a.log
set -euo pipefail

# Slurm runs a copy of this script from its spool directory: messages name it by its path in the repo.
script="scripts/slurm-grid.sh"

fail() {
  echo "slurm-grid: $*" >&2
  exit 2
}

repo="${IWAE_REPO:-${SLURM_SUBMIT_DIR:-$(pwd)}}"
[[ -f "$repo/bin/iwae.js" ]] || fail "$repo is not the iwae-lab repository; submit from the repo root or set IWAE_REPO"
[[ -n "${SLURM_ARRAY_TASK_ID:-}" ]] || fail "not an array task; submit with sbatch --array=1-N $script --profile NAME --results DIR"

profile="${IWAE_PROFILE:-}"
results="${IWAE_RESULTS_DIR:-}"
shards="${IWAE_SHARDS:-}"
workers="${IWAE_WORKERS:-1}"
grid_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --profile | --results | --shards | --workers)
      [[ $# -ge 2 ]] || fail "$1 needs a value"
      declare "${1#--}=$2"
      shift 2
      ;;
    --profile=* | --results=* | --shards=* | --workers=*)
      option="${1%%=*}"
      declare "${option#--}=${1#*=}"
      shift
      ;;
    --shard | --shard=*) fail "the script sets --shard from the array task; to choose the split, pass --shards N" ;;
    *)
      grid_args+=("$1")
      shift
      ;;
  esac
done

if [[ -z "$profile" || -z "$results" ]]; then
  if [[ -z "$profile" && -z "$results" ]]; then what="profile and no results directory"
  elif [[ -z "$profile" ]]; then what="profile"
  else what="results directory"; fi
  fail "no $what given: pass --profile NAME --results DIR to the script, or set IWAE_PROFILE and IWAE_RESULTS_DIR (sbatch --export=NONE drops the environment)"
fi

task="$SLURM_ARRAY_TASK_ID"
if [[ -n "$shards" ]]; then
  [[ "$shards" =~ ^[1-9][0-9]*$ ]] || fail "--shards must be a positive integer, got '$shards'"
  (( task >= 1 && task <= shards )) || fail "array task id $task is not a shard of 1..$shards (with --shards N the array ids are the shard numbers: --array=1-$shards or a subset)"
  shard_index="$task"
  shard_count="$shards"
  split="--shards $shards"
  if [[ -n "${SLURM_ARRAY_TASK_COUNT:-}" && "$SLURM_ARRAY_TASK_COUNT" != "$shards" ]]; then
    split="$split; this array has ${SLURM_ARRAY_TASK_COUNT} of the $shards shards, the others are not run by it"
  fi
else
  first="${SLURM_ARRAY_TASK_MIN:-}"
  last="${SLURM_ARRAY_TASK_MAX:-}"
  count="${SLURM_ARRAY_TASK_COUNT:-}"
  [[ -n "$first" && -n "$last" && -n "$count" ]] || fail "Slurm did not say the array's range (SLURM_ARRAY_TASK_MIN/MAX/COUNT); pass --shards N"
  if (( count != last - first + 1 )); then
    fail "the array has gaps ($count tasks with ids $first..$last), so shards would be skipped; pass the shard count: sbatch --array=<ids> $script --shards N ... (ids are then shard numbers 1..N)"
  fi
  if (( first != 0 && first != 1 )); then
    fail "the array's ids $first..$last do not start at 0 or 1, so its shards are unknown (a resubmitted part?); pass the shard count: sbatch --array=$first-$last $script --shards N ..."
  fi
  shard_index=$(( task - first + 1 ))
  shard_count="$count"
  split="from the array $first-$last"
  (( count > 1 )) || split="the whole grid: the array has one task; to rerun one shard of a split, pass --shards N"
fi

command -v node >/dev/null || fail "node is not on PATH in this job (sbatch --export=NONE drops PATH: load Node.js in the job or submit with --export=ALL)"
cd "$repo"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
echo "slurm-grid: ${HOSTNAME:-?} task $task: shard $shard_index/$shard_count ($split) of profile $profile -> $results" >&2

node bin/iwae.js grid \
  --profile "$profile" \
  --shard "$shard_index/$shard_count" \
  --workers "$workers" \
  --results "$results" \
  ${grid_args[@]+"${grid_args[@]}"} &
grid_pid=$!
# Slurm signals every process of the task at a time limit or scancel, but `scancel --batch` reaches only
# this shell: pass the signal on, then wait until the grid has stopped cleanly and take its status.
trap 'kill -TERM "$grid_pid" 2>/dev/null || true' TERM
trap 'kill -INT "$grid_pid" 2>/dev/null || true' INT
while kill -0 "$grid_pid" 2>/dev/null; do wait "$grid_pid" || true; done
status=0
wait "$grid_pid" || status=$?
if [[ $status -eq 3 ]]; then
  echo "slurm-grid: task $task ends with status 0: every run has an outcome; the failed ones above failed numerically (NaN/Inf), which is recorded as their result and not changed by rerunning" >&2
  exit 0
fi
exit "$status"
