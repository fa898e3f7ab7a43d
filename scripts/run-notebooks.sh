#!/usr/bin/env bash
# The main job: trains the profile's grid from the terminal (progress bar, ETA, safe to kill and rerun),
# then executes every notebook headless with nbconvert, in order, keeping outputs in place. The
# notebooks find the grid's runs finished and reuse them. IWAE_PROFILE (default quick) selects the scale.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export IWAE_PROFILE="${IWAE_PROFILE:-quick}"
case "$IWAE_PROFILE" in
  smoke|quick|paper) ;;
  *) echo "run: unknown IWAE_PROFILE '$IWAE_PROFILE' (expected smoke, quick or paper)" >&2; exit 2 ;;
esac
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
start=$(date +%s)
mkdir -p data/tmp figures
# Exit 1 means some runs failed (NaN/Inf, listed above): the notebooks report and leave them out.
# Anything else (an interrupt, bad data) stops here; rerunning resumes where it stopped.
echo "[run] training the $IWAE_PROFILE grid (experiments 1 and 2, extras)" >&2
grid_rc=0
node bin/iwae.js grid --profile "$IWAE_PROFILE" --extras --results "${IWAE_RESULTS_DIR:-data/runs}" || grid_rc=$?
if [[ $grid_rc -ne 0 && $grid_rc -ne 1 ]]; then
  echo "[run] grid stopped (exit $grid_rc); run the same command again to resume" >&2
  exit "$grid_rc"
fi
for nb in notebooks/[0-9][0-9]_*.ipynb; do
  echo "[run] $nb (profile $IWAE_PROFILE)" >&2
  t0=$(date +%s)
  if ! .venv/bin/jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=-1 --ExecutePreprocessor.kernel_name=iwae-lab "$nb" 2>"data/tmp/nbconvert.log"; then
    cat data/tmp/nbconvert.log >&2; echo "[run] FAILED: $nb" >&2; exit 1
  fi
  echo "[run] $nb done in $(( $(date +%s) - t0 )) s" >&2
done
echo "[run] all notebooks executed in $(( $(date +%s) - start )) s; figures:" >&2
ls -1 figures/*.pdf >&2 2>/dev/null || true
