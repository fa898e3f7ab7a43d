#!/usr/bin/env bash
# Makes `require('@tensorflow/tfjs-node')` work, idempotently.
#
# tfjs-node's own install script downloads libtensorflow 2.9.1 and a prebuilt addon from a Google
# bucket. Where that works (an ordinary laptop) we use it. Where it does not (offline machines that
# reach only npm, Debian and a pip mirror), we take the TensorFlow C libraries from the
# `tensorflow-cpu` wheel and build the addon from source against them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/node_modules/@tensorflow/tfjs-node"
cache="${IWAE_CACHE_DIR:-$root/.cache}"
tf_wheel_version="${IWAE_TF_WHEEL_VERSION:-2.21.0}"
python="${PYTHON:-python3}"

say() { echo "[tfjs-node] $*" >&2; }

tfjs_works() {
  (cd "$root" && node -e "const tf=require('@tensorflow/tfjs-node'); tf.matMul(tf.ones([2,2]),tf.ones([2,2])).dataSync();" >/dev/null 2>&1)
}

[ -d "$pkg" ] || { say "node_modules/@tensorflow/tfjs-node is missing: run npm ci first"; exit 1; }
if tfjs_works; then say "ok (already provisioned)"; exit 0; fi

export PATH="$root/node_modules/.bin:$PATH"
# node-gyp would otherwise try to download Node's headers; use the installed ones when present.
if [ -z "${npm_config_nodedir:-}" ]; then
  for d in /usr /usr/local; do
    if [ -f "$d/include/node/node_api.h" ]; then export npm_config_nodedir="$d"; break; fi
  done
fi

# 1. The package's normal install (download of libtensorflow + prebuilt addon).
if [ "${IWAE_TFJS_SKIP_DOWNLOAD:-0}" != "1" ] && [ ! -e "$pkg/deps/lib/libtensorflow.so.2.9.1" ]; then
  say "trying the normal libtensorflow download"
  if (cd "$pkg" && timeout 300 node scripts/install.js) >"$cache.tfjs-download.log" 2>&1 && tfjs_works; then
    say "ok (downloaded)"; rm -f "$cache.tfjs-download.log"; exit 0
  fi
  say "download unavailable; building against the tensorflow-cpu $tf_wheel_version wheel instead"
  rm -rf "$pkg/deps" "$cache.tfjs-download.log"
fi

# 2. Stage the C libraries from the tensorflow-cpu wheel (pip's mirror serves it offline).
mkdir -p "$cache/tf-wheel"
wheel="$(ls "$cache"/tf-wheel/tensorflow_cpu-"$tf_wheel_version"-*.whl 2>/dev/null | head -n1 || true)"
if [ -z "$wheel" ]; then
  say "fetching tensorflow-cpu==$tf_wheel_version wheel"
  # --retries 0 --timeout 5: an unreachable public index must not cost minutes of retries.
  "$python" -m pip download --no-deps --only-binary=:all: --retries 0 --timeout 5 \
    "tensorflow-cpu==$tf_wheel_version" -d "$cache/tf-wheel" >&2
  wheel="$(ls "$cache"/tf-wheel/tensorflow_cpu-"$tf_wheel_version"-*.whl | head -n1)"
fi

say "staging TensorFlow C libraries into $pkg/deps"
rm -rf "$pkg/deps.tmp"
mkdir -p "$pkg/deps.tmp/lib" "$pkg/deps.tmp/include"
"$python" - "$wheel" "$pkg/deps.tmp" <<'PY'
import sys, zipfile, os, shutil
wheel, dest = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            out = os.path.join(dest, "lib", os.path.basename(name))
        elif name.startswith("tensorflow/include/") and not name.endswith("/"):
            out = os.path.join(dest, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
(cd "$pkg/deps.tmp/lib" &&
  ln -sf libtensorflow_cc.so.2 libtensorflow.so &&
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so &&
  # install.js checks for this name to decide the library is already there.
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1)
rm -rf "$pkg/deps" && mv "$pkg/deps.tmp" "$pkg/deps"

# 3. Build the addon from source (the prebuilt-addon download fails fast, then node-pre-gyp builds).
say "building the addon from source (~30 s)"
(cd "$pkg" && node scripts/install.js) >&2
if tfjs_works; then say "ok (built against tensorflow-cpu $tf_wheel_version)"; else say "FAILED: require('@tensorflow/tfjs-node') still fails"; exit 1; fi
