#!/usr/bin/env bash
# Runs an experiment grid as a Slurm job array: array task i of n runs `iwae grid --shard i/n`.
#
#   cd <repo> && make setup                       # once, on a node with the shared file system
#   node bin/iwae.js grid --profile paper --list | wc -l    # runs in the grid (80; 120 with --extras)
#   sbatch --array=1-20 scripts/slurm-grid.sh               # 20 tasks of 4 runs each
#   sbatch --array=1-20 scripts/slurm-grid.sh --extras      # extra `iwae grid` flags are passed on
#
# Settings (environment): IWAE_PROFILE (default paper), IWAE_RESULTS_DIR (default <repo>/data/runs, must be
# on a file system every node shares), IWAE_WORKERS (worker processes per task, default 1), MNIST_DIR.
# Safe to resubmit: finished runs are skipped, interrupted runs resume from their last epoch, and runs
# are claimed by lock files, so overlapping tasks (or a task and a local `iwae grid`) never run one twice.
# When a task hits its time limit, Slurm's SIGTERM stops the grid cleanly; resubmit the same array.
# The array must be one contiguous range (e.g. 1-20 or 0-19, any %limit).
#SBATCH --job-name=iwae-grid
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=12:00:00
#SBATCH --output=iwae-grid-%A_%a.log
set -euo pipefail

repo="${IWAE_REPO:-${SLURM_SUBMIT_DIR:-$(pwd)}}"
if [[ ! -f "$repo/bin/iwae.js" ]]; then
  echo "slurm-grid: $repo is not the iwae-lab repository; submit from the repo root or set IWAE_REPO" >&2
  exit 2
fi
if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  echo "slurm-grid: not an array task; submit with sbatch --array=1-N $0" >&2
  exit 2
fi
cd "$repo"

first="${SLURM_ARRAY_TASK_MIN:-1}"
last="${SLURM_ARRAY_TASK_MAX:-${SLURM_ARRAY_TASK_COUNT:-1}}"
shard_index=$(( SLURM_ARRAY_TASK_ID - first + 1 ))
shard_count=$(( last - first + 1 ))
results="${IWAE_RESULTS_DIR:-$repo/data/runs}"

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
echo "slurm-grid: $(hostname) task ${SLURM_ARRAY_TASK_ID}: shard ${shard_index}/${shard_count} of profile ${IWAE_PROFILE:-paper} -> ${results}" >&2
# exec: the grid gets Slurm's signals directly (SIGTERM at the time limit stops it cleanly).
exec node bin/iwae.js grid \
  --profile "${IWAE_PROFILE:-paper}" \
  --shard "${shard_index}/${shard_count}" \
  --workers "${IWAE_WORKERS:-1}" \
  --results "$results" \
  "$@"
