#!/usr/bin/env bash
# The project's test command: strict type check, then every test under test/ with Node's test runner.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
echo "[test] tsc --noEmit (lib, test, bin)"
node_modules/.bin/tsc --noEmit -p tsconfig.json
mapfile -t files < <(find test -name '*.test.ts' | sort)
echo "[test] node --test: ${#files[@]} files"
# One file at a time: tfjs-node tests each start a TensorFlow runtime, and this machine has 2 cores.
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
