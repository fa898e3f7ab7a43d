#!/usr/bin/env bash
# The main job: executes every notebook headless with nbconvert, in order, keeping outputs in place.
# IWAE_PROFILE (default quick) selects the experiment scale; finished runs are reused.
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
