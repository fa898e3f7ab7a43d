#!/usr/bin/env bash
# One idempotent setup for a fresh clone: npm packages, tfjs-node's native addon, the Python venv with
# JupyterLab/nbconvert/TensorBoard, the project's TypeScript kernel, and Chromium for PDF export.
# Every step checks a stamp first, so a re-run on a ready machine takes a few seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[setup] $*" >&2; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
start=$(date +%s)

# Two setups at once (say `make test` in one terminal and `make lab` in another) would both rewrite
# node_modules; the second waits for the first instead.
mkdir -p .cache
if command -v flock >/dev/null; then exec 9>.cache/setup.lock && flock 9; fi

# 1. npm packages. Lifecycle scripts are off (.npmrc): tfjs-node's would try an unreachable download.
lock_hash="$(hash_of package.json package-lock.json)"
if [ "$(cat node_modules/.iwae-lock-hash 2>/dev/null || true)" != "$lock_hash" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.iwae-lock-hash
fi

# 2. tfjs-node's native addon (normal download where reachable, else built against the TF wheel).
bash scripts/provision-tfjs.sh

# 3. Python venv from the pinned requirements. --retries 0 --timeout 5: an unreachable public index
#    must not cost minutes of retries before pip falls back to a configured mirror.
req_hash="$(hash_of requirements.txt)"
# A venv's scripts carry its absolute path: a moved or copied repository would run the original's
# jupyter (and its kernel, writing the original's data). Such a venv is rebuilt here.
source scripts/venv-location.sh
if reason="$(venv_foreign_reason .venv)"; then
  say "rebuilding .venv for $root: $reason"
  rm -rf .venv
fi
if [ "$(cat .venv/.iwae-requirements-hash 2>/dev/null || true)" != "$req_hash" ]; then
  say "creating .venv (jupyterlab, nbconvert, tensorboard, plotly)"
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --retries 0 --timeout 5 -r requirements.txt >&2
  echo "$req_hash" > .venv/.iwae-requirements-hash
fi

# 4. The project's TypeScript kernel. tslab compiles with rootDir = its working directory, so the
#    kernel must start in the repo root for notebooks to `import ... from './lib/...'`. The preload
#    (lib/notebook/kernel-preload.ts, through tsx) makes errors in cells point at the .ts sources and
#    Kernel > Interrupt print one line instead of tslab's stack trace.
kernel_dir=".venv/share/jupyter/kernels/iwae-lab"
kernel_json="$(cat <<JSON
{
  "argv": ["sh", "-c", "cd '$root' && exec node --require tsx/cjs --require ./lib/notebook/kernel-preload.ts '$root/node_modules/tslab/bin/tslab' kernel --config-path \"\$0\"", "{connection_file}"],
  "display_name": "TypeScript (iwae-lab)",
  "language": "typescript",
  "env": {"TF_CPP_MIN_LOG_LEVEL": "2", "ESBUILD_BINARY_PATH": "$root/scripts/esbuild-ignoring-sigint.sh"}
}
JSON
)"
if [ "$(cat "$kernel_dir/kernel.json" 2>/dev/null || true)" != "$kernel_json" ]; then
  say "registering the tslab kernels in .venv (project kernel: iwae-lab)"
  node_modules/.bin/tslab install --python=.venv/bin/python --prefix="$root/.venv" >/dev/null 2>&1 || \
    node_modules/.bin/tslab install --python=.venv/bin/python --prefix="$root/.venv" >&2
  mkdir -p "$kernel_dir"
  printf '%s\n' "$kernel_json" > "$kernel_dir/kernel.json.tmp" && mv "$kernel_dir/kernel.json.tmp" "$kernel_dir/kernel.json"
fi

# 5. JupyterLab defaults for a new user (overrides.d: the user's own overrides.json stays theirs).
#    No "get notified about official Jupyter news?" toast on first start, and no update check: both
#    would make requests to jupyter.org; either can be switched on again under Settings.
lab_overrides_dir=".venv/share/jupyter/lab/settings/overrides.d"
lab_overrides='{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}'
if [ "$(cat "$lab_overrides_dir/iwae-lab.json" 2>/dev/null || true)" != "$lab_overrides" ]; then
  mkdir -p "$lab_overrides_dir"
  printf '%s\n' "$lab_overrides" > "$lab_overrides_dir/iwae-lab.json.tmp" && mv "$lab_overrides_dir/iwae-lab.json.tmp" "$lab_overrides_dir/iwae-lab.json"
fi

# 6. Chromium for exporting figures to PDF (CHROME_PATH wins; else the usual places; else Debian's).
if ! node -e "require('tsx/cjs'); const c=require('./lib/figures/chromium.ts'); if(!c.findChromium(process.env)) process.exit(1)" 2>/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for PDF export"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
      say "WARNING: apt-get install chromium failed; set CHROME_PATH to a Chrome/Chromium binary to export PDFs"
  else
    say "WARNING: no Chromium found; install chromium (or Chrome) and/or set CHROME_PATH to export figures as PDF"
  fi
fi
say "ready ($(( $(date +%s) - start )) s)"
