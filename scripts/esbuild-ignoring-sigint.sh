#!/bin/sh
# The notebook kernel's esbuild service (tsx compiles lib/*.ts through it), with SIGINT ignored.
# Jupyter interrupts a kernel by sending SIGINT to its whole process group, and esbuild's service, a
# child of the kernel, would die of it: every module imported after the interrupt then failed with
# "The service is no longer running". An ignored signal stays ignored across exec (esbuild keeps it
# so), so only the kernel sees the interrupt. kernel.json points ESBUILD_BINARY_PATH here.
repo="$(cd "$(dirname "$0")/.." && pwd)"
binary="$(node -e "process.stdout.write(require.resolve('@esbuild/' + process.platform + '-' + process.arch + '/bin/esbuild', { paths: [process.argv[1]] }))" "$repo")" || exit 1
trap '' INT
exec "$binary" "$@"
