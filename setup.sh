#!/usr/bin/env bash
# One-time setup on Debian/Ubuntu with Node >= 20: the oneDNN library for the fast native CPU
# engine (when apt is usable), pnpm, and the workspace's npm packages. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

# The native engine links Debian's oneDNN (the library PyTorch and ONNX Runtime use on CPU).
# Without it everything still works, on tfjs's slower pure-JS backend.
if [ ! -e /usr/include/oneapi/dnnl/dnnl.hpp ] && [ "${DLCV_SKIP_NATIVE:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
  if $sudo true 2>/dev/null; then
    echo "setup: installing libdnnl-dev (oneDNN) for the native engine"
    $sudo apt-get install -y -q libdnnl-dev >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q libdnnl-dev >/dev/null; } ||
      echo "setup: could not install libdnnl-dev; continuing without the native engine"
  else
    echo "setup: no root or password-less sudo; to get the fast engine run: sudo apt-get install libdnnl-dev"
  fi
fi

command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10
pnpm install --frozen-lockfile
