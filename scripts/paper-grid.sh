#!/usr/bin/env bash
# The paper grid with its ablations (120 runs), trained on this machine into data/results/paper/, in the
# background: `bash scripts/paper-grid.sh` starts it (or resumes what is missing: finished runs are never
# redone, interrupted ones resume from their last epoch), its log in logs/paper-grid.log. Stacks of 5 runs
# on 2 workers: a stack takes about 1.9-2.1 h (k = 1) to 2.5-3.1 h (k = 5) here, training and final L_5000, so a
# machine that goes away loses at most one stack per worker.
# Commit the finished runs' result files as they come (the .gitignore keeps checkpoints and locks out).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p logs data/results/paper
nohup node bin/iwae.js grid --profile paper --extras --results data/results/paper \
  --stack-size "${IWAE_STACK_SIZE:-5}" --workers "${IWAE_WORKERS:-2}" "$@" >> logs/paper-grid.log 2>&1 &
echo "paper grid started (pid $!); log: logs/paper-grid.log"
