#!/usr/bin/env bash
# The libtorch engine's checks on a lent GPU machine, in one device call. Not yet run on a GPU:
# written, and dry-run end to end on a CPU machine (Debian libtorch), before one was lent.
#
# Prepare on the CPU machine:  pnpm build && node tools/device/bundle.js
# Device call:                 carry ["build/device"], command `bash tools/device/gpu-check.sh`,
#                              timeout_s 590 (each step below has its own time limit)
#
# There: unpacks node (the device has none) and node_modules, builds the addon against the
# python3 torch package (a CUDA wheel), runs the kernel suite on the libtorch engine (on CUDA a
# kernel without ATen code fails, see engine/torch/host-kernels.ts), then the bench rows in fp32
# and TF32. Logs go to $OUT (the device tool brings them back). Exit status: the kernel suite's.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
dev=$root/build/device
out=${OUT:-$dev/out}
steps=${BENCH_STEPS:-5}
only=${BENCH_ONLY:-dcgan,ddpm,dann}
mkdir -p "$out" "$dev/bin"
xz -dc "$dev/node.xz" >"$dev/bin/node" && chmod +x "$dev/bin/node"
tar -xJf "$dev/modules.tar.xz"
# DLCV_NATIVE=0: no oneDNN there, so the native engine's specs skip at once
export PATH="$dev/bin:$PATH" DLCV_NATIVE=0

{
  node --version
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "cuda available", torch.cuda.is_available())'
} 2>&1 | tee "$out/env.log"

DLCV_NODE_INCLUDE="$dev/node-include" timeout 240 node packages/core/scripts/build-torch.js 2>&1 | tee "$out/build.log"
if [ ! -f packages/core/build/Release/dlcv_torch.node ]; then
  echo "gpu-check: the addon was not built (see build.log)"
  exit 1
fi

(cd packages/core && DLCV_REQUIRE_TORCH=1 timeout 300 node "$root/node_modules/jest/bin/jest.js" src/engine/kernels src/engine/torch) 2>&1 | tee "$out/kernels.log"
kernels=${PIPESTATUS[0]}

for tf32 in 0 1; do
  DLCV_TF32=$tf32 timeout 150 node tools/bench/bench.js --engine libtorch --no-torch --no-onnx --steps "$steps" --only "$only" 2>&1 | tee "$out/bench-tf32-$tf32.log"
done
exit "$kernels"
