#!/usr/bin/env bash
# Idempotent: the PyTorch venv (.venv-bench) that `iwae bench` times our training step against
# (bench/reference.py). `make test` runs it (the tests check the references); `make setup` does not:
# torch CPU is ~200 MB and neither the notebooks nor the grids need it. ~25 s from the wheel mirror.
# A stamp with the requirements' hash makes a re-run on a ready machine return at once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[setup-bench] $*" >&2; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
python="${PYTHON:-python3}"

# Two setups at once would both write the venv; the second waits for the first.
mkdir -p .cache
if command -v flock >/dev/null; then exec 9>.cache/setup-bench.lock && flock 9; fi

req_hash="$(hash_of requirements-bench.txt)"
if [ "$(cat .venv-bench/.iwae-requirements-hash 2>/dev/null || true)" = "$req_hash" ]; then
  say "ok (.venv-bench is up to date)"
  exit 0
fi
say "creating .venv-bench (torch CPU for the PyTorch reference)"
"$python" -m venv .venv-bench
# --retries 0 --timeout 5: an unreachable public index must not cost minutes of retries before pip
# falls back to a configured mirror. The CPU wheel index keeps pip from pulling CUDA builds where the
# public index is reachable; mirrors that already serve `+cpu` wheels ignore it.
# IWAE_TORCH_INDEX_URL= (empty) leaves the CPU index out entirely.
index_url="${IWAE_TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"
.venv-bench/bin/python -m pip install --quiet --retries 0 --timeout 5 \
  ${index_url:+--extra-index-url "$index_url"} -r requirements-bench.txt >&2
.venv-bench/bin/python -c "import torch; torch.ones(1).sum().item()"
echo "$req_hash" > .venv-bench/.iwae-requirements-hash
say "ready: $(.venv-bench/bin/python -c 'import torch; print("torch", torch.__version__)')"
