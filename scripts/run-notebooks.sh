#!/usr/bin/env bash
# The main job: executes every notebook headless, in order, with the profile injected into its
# `parameters` cell. IWAE_PROFILE (default paper) selects the scale. On paper the notebooks read the runs
# shipped in data/results/paper/ and nothing is trained (IWAE_TRAIN_MISSING=1 trains the missing ones
# first: hours). On quick and smoke the profile's grid is trained first, from the terminal (progress
# bar, ETA, safe to kill and rerun), into data/runs/; the notebooks then find its runs finished.
# The tracked notebooks are never written: executed copies go to notebooks/executed/<profile>/ and
# figures to figures/<profile>/ (both git-ignored), so the working tree stays clean.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export IWAE_PROFILE="${IWAE_PROFILE:-paper}"
case "$IWAE_PROFILE" in
  smoke|quick|paper) ;;
  *) echo "run: unknown IWAE_PROFILE '$IWAE_PROFILE' (expected smoke, quick or paper)" >&2; exit 2 ;;
esac
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
start=$(date +%s)
if [[ "$IWAE_PROFILE" == paper ]]; then
  results_dir="${IWAE_RESULTS_DIR:-data/results/paper}"; train="${IWAE_TRAIN_MISSING:-0}"
else
  results_dir="${IWAE_RESULTS_DIR:-data/runs}"; train="${IWAE_TRAIN_MISSING:-1}"
fi
executed="notebooks/executed/$IWAE_PROFILE"
mkdir -p data/tmp "$executed"
# Exit 3 means every run has an outcome but some failed (NaN/Inf, listed above; the truncated-normal
# extras do by design): the notebooks report and leave them out. Anything else (runs that hit errors,
# an interrupt, bad data) stops here; rerunning retries or resumes where it stopped.
if [[ "$train" == 1 ]]; then
  echo "[run] training the $IWAE_PROFILE grid (experiments 1 and 2, extras)" >&2
  grid_rc=0
  node bin/iwae.js grid --profile "$IWAE_PROFILE" --extras --results "$results_dir" || grid_rc=$?
  if [[ $grid_rc -ne 0 && $grid_rc -ne 3 ]]; then
    echo "[run] grid stopped (exit $grid_rc); run the same command again to resume" >&2
    exit "$grid_rc"
  fi
  # Experiment 3 (gradient estimators, notebook 06) has runs of its own. Not on paper (hours more than
  # the study's grid): `iwae grid --profile paper --experiment 3` trains it there when wanted.
  if [[ "$IWAE_PROFILE" != paper ]]; then
    echo "[run] training the $IWAE_PROFILE grid of experiment 3 (gradient estimators)" >&2
    grid_rc=0
    node bin/iwae.js grid --profile "$IWAE_PROFILE" --experiment 3 --results "$results_dir" || grid_rc=$?
    if [[ $grid_rc -ne 0 && $grid_rc -ne 3 ]]; then
      echo "[run] grid stopped (exit $grid_rc); run the same command again to resume" >&2
      exit "$grid_rc"
    fi
  fi
else
  echo "[run] the $IWAE_PROFILE grid as it is in $results_dir (nothing trained; IWAE_TRAIN_MISSING=1 trains the missing runs first)" >&2
fi
for nb in notebooks/[0-9][0-9]_*.ipynb; do
  echo "[run] $nb (profile $IWAE_PROFILE)" >&2
  t0=$(date +%s)
  if ! .venv/bin/python scripts/execute-notebook.py "$nb" --out "$executed" \
    -p profile "$IWAE_PROFILE" -p resultsDir "$results_dir" -p trainMissing false >/dev/null 2>"data/tmp/execute-notebook.log"; then
    cat data/tmp/execute-notebook.log >&2; echo "[run] FAILED: $nb" >&2; exit 1
  fi
  echo "[run] $nb done in $(( $(date +%s) - t0 )) s" >&2
done
figures_dir="${IWAE_FIGURES_DIR:-figures}/$IWAE_PROFILE"
echo "[run] all notebooks executed in $(( $(date +%s) - start )) s: executed copies in $executed/," \
  "$(ls -1 "$figures_dir"/*.pdf 2>/dev/null | wc -l) figures in $figures_dir/" >&2
