#!/usr/bin/env bash
# One-time setup on Debian/Ubuntu with Node >= 20: the system libraries of the native engines
# (when apt is usable), pnpm, and the workspace's npm packages. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

# apt_install PACKAGE FILE SKIP_VAR WHAT: installs a Debian package unless FILE (one it installs) is there
# or $SKIP_VAR is 1; only with root or password-less sudo, otherwise it says how.
apt_install() {
  local package=$1 file=$2 skip_var=$3 what=$4
  if [ -e "$file" ] || [ "${!skip_var:-0}" = 1 ] || ! command -v apt-get >/dev/null 2>&1; then return 0; fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
  if $sudo true 2>/dev/null; then
    echo "setup: installing $package for $what"
    $sudo apt-get install -y -q "$package" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$package" >/dev/null; } ||
      echo "setup: could not install $package; continuing without $what"
  else
    echo "setup: no root or password-less sudo; for $what run: sudo apt-get install $package"
  fi
}

# The native engine links Debian's oneDNN (the library PyTorch and ONNX Runtime use on CPU).
# Without it everything still works, on tfjs's slower pure-JS backend.
apt_install libdnnl-dev /usr/include/oneapi/dnnl/dnnl.hpp DLCV_SKIP_NATIVE "the native engine (oneDNN)"
# The libtorch engine (ATen; CUDA with a torch wheel, see README "Engines") builds and is tested
# on the CPU against Debian's libtorch-dev; a TORCH_DIR needs nothing from apt.
# Debian's libtorch multiplies through the system's libblas.so.3: the reference BLAS unless an
# optimised one is installed, which OpenBLAS is (several times faster: README "Engines").
if [ -z "${TORCH_DIR:-}" ]; then
  apt_install libtorch-dev /usr/include/ATen/ATen.h DLCV_SKIP_TORCH "the libtorch engine (ATen)"
  apt_install libopenblas0 /usr/share/doc/libopenblas0/copyright DLCV_SKIP_TORCH "the libtorch engine's matrix products (OpenBLAS)"
fi

# The face grader runs the assignment's detector, dlib's HOG frontal face detector, through an
# addon over Debian's libdlib-dev; without it the grader falls back to face-api and says so.
apt_install libdlib-dev /usr/include/dlib/image_processing/frontal_face_detector.h DLCV_SKIP_DLIB "the face grader's dlib detector (the assignment's)"

# The report pages' browser tests drive Debian's Chromium with playwright-core (which downloads
# nothing). Installed on request (CI sets DLCV_BROWSER=1); without it those tests skip.
if [ "${DLCV_BROWSER:-0}" = 1 ]; then
  apt_install chromium /usr/bin/chromium DLCV_SKIP_BROWSER "the report pages' browser tests"
fi

command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10
pnpm install --frozen-lockfile
