#!/usr/bin/env bash
# The libtorch engine's checks on a lent GPU machine, in one or two device calls (run on an H200
# with the torch 2.11 CUDA 13 wheel: the README's "Training on a GPU" has the results).
#
# Prepare on the CPU machine:  pnpm build && node tools/device/bundle.js
# Device calls (carry ["build/device"], timeout_s 600; each step has its own limit, all of them
# within GPU_CHECK_BUDGET, 560 s):
#   bash tools/device/gpu-check.sh engine   the addon's build, the kernel suite, the engine tests of
#                                           gan, ddpm, dann and eval, the bench's GPU rows (and fp32 with the
#                                           convolutions in NCHW, DLCV_TORCH_CONV_LAYOUT=nchw),
#                                           a per-kernel profile of the DDPM training step and,
#                                           beside PyTorch's, of its sampling forward, the
#                                           training steps' and the sampling forward's ATen ops
#                                           and GPU kernels under Kineto beside PyTorch's
#                                           (bench.js --profile-aten), the
#                                           host's time per step in fp32 and TF32
#                                           (tools/bench/host-time.js; and at tiny sizes on the
#                                           device's CPU, host-time-cpu), and in TF32 the steps
#                                           with the addon's op queue off and on, paired, and
#                                           with its op thread sleeping when idle and polling
#                                           (host-time.js --pair-spin, queue-handover.js), with
#                                           ATen's intra-op threads at 1 and at the engine's count
#                                           (host-time.js --pair-threads), with Adam in ATen foreach ops and
#                                           ATen's fused kernel (host-time.js --pair-adam), with
#                                           BatchNorm's running statistics at each call and after
#                                           the step (--pair-running-stats), and the host's
#                                           cost of one call of each heavy op beside PyTorch's
#                                           (tools/bench/op-cost.js);
#                                           ENGINE_STEPS picks among the steps after the tests, which
#                                           run in this order, the cheap tables before the profiles
#                                           that a short budget cuts first (default: all of
#                                           bench,host-time-tf32-0,host-time-tf32-1,host-time-cpu,queue-tf32-1,queue-spin,
#                                           threads-tf32-1,adam-tf32-1,stats-tf32-1,op-cost-tf32-1,nchw,profile,
#                                           profile-forward,profile-aten)
#                                           and BENCH_TF32 the bench's precisions (default '0 1': fp32, then TF32)
#   bash tools/device/gpu-check.sh ddpm     the addon's build, the ddpm gpu preset: train, sample, grade
#                                           (DDPM_TRAIN_FLAGS and DDPM_SAMPLE_FLAGS add flags; DDPM_EXTRA_W='3 4'
#                                           samples and grades the model again at those guidance weights)
#   bash tools/device/gpu-check.sh          both in one call (the ddpm run then gets what is left,
#                                           which the engine part may leave too little of)
#   bash tools/device/gpu-check.sh determinism  the addon's build, then each trainer (ddpm, gan,
#                                           dann) twice on one seed at small sizes and once with
#                                           its steps replayed: the same checkpoint bytes, or which
#                                           files differ (about 3 min)
# The two parts fit one call each: run `engine`, then `ddpm` at once (a machine kept warm keeps
# the addon's objects; a fresh one builds them again).
#
# There: unpacks node (the device has none) and node_modules, builds the addon against the
# python3 torch package (a CUDA wheel), runs the kernel suite and the gan, ddpm, dann and
# eval packages' engines.test.ts on the libtorch engine (on CUDA a kernel without ATen code fails, see
# engine/torch/host-kernels.ts), the bench's GPU rows against
# PyTorch CUDA in fp32 and TF32, then trains the ddpm gpu preset on the embedded MNIST-M, samples
# the 1,000 graded digits with its (the report's) sampler in one batch and grades them with
# `dlcv-eval digits`. $OUT (the device tool brings back at most 8 files) gets kernels.log,
# bench-tf32-0.log, bench-tf32-1.log, bench-nchw.log, ddpm-train.log, ddpm-gpu.json (steps/s, images/s, accuracy,
# sampling time against PyTorch's), the ddpm part's bench-ddpm-tf32-<0|1>.log and steps.log (the
# other steps' logs, one after another), as far as the part runs them. Exit
# status: the kernel suite's and engine tests', else the ddpm run's; 2 for a usage error or a missing bundle.
#
# Dry run on a CPU machine (no nvidia-smi, Debian's libtorch and python3-torch), from a copy of
# the tracked files and build/device, with a python3 that has torch first on PATH:
#   OUT=/tmp/out GPU_CHECK_BUDGET=1500 BENCH_DEVICE=cpu BENCH_STEPS=1 \
#   BENCH_SIZES='--ddpm-batch 2 --ddpm-forward-batch 4 --n-feat 8 --gan-batch 2 --gan-models A --dann-batch 4' \
#   DDPM_TRAIN_FLAGS='--steps 3 --n-feat 8 --batch 16 --draw-threads 2' DDPM_SAMPLE_FLAGS='--sampler ddim --steps 2 --eta 1 --arithmetic device --step-workers 3' \
#   OP_COST_SIZES='--calls 5 --batch 8 --size 14 --channels 32 --features 128' \
#   bash tools/device/gpu-check.sh            (or with `engine`, `ddpm` or `determinism`)
set -uo pipefail
part=${1:-all}
case $part in
  all | engine | ddpm | determinism) ;;
  *)
    echo "usage: gpu-check.sh [all|engine|ddpm|determinism] (got $part)" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/../.."
root=$PWD
dev=$root/build/device
out=${OUT:-$dev/out}
budget=${GPU_CHECK_BUDGET:-560}
steps=${BENCH_STEPS:-10}
only=${BENCH_ONLY:-dcgan,ddpm,dann}
# the bench step's precisions, DLCV_TF32 values: fp32 (0) and TF32 (1), or one of them
read -r -a bench_tf32 <<<"${BENCH_TF32:-0 1}"
for v in "${bench_tf32[@]}"; do
  [[ $v == 0 || $v == 1 ]] || {
    echo "gpu-check: BENCH_TF32 takes 0 and 1 (got $v)" >&2
    exit 2
  }
done
# the engine part's steps after the tests, a comma-separated subset of these (run in this order)
engine_steps=${ENGINE_STEPS:-bench,host-time-tf32-0,host-time-tf32-1,host-time-cpu,queue-tf32-1,queue-spin,threads-tf32-1,adam-tf32-1,stats-tf32-1,op-cost-tf32-1,nchw,profile,profile-forward,profile-aten}
device=${BENCH_DEVICE:-cuda}
# empty: the bench's GPU sizes (DDPM 256 / 2000, DCGAN A and B 128, DANN 256)
read -r -a sizes <<<"${BENCH_SIZES:-}"
read -r -a train_flags <<<"${DDPM_TRAIN_FLAGS:-}"
read -r -a sample_flags <<<"${DDPM_SAMPLE_FLAGS:-}"
# the ddpm part's other guidance weights: the trained model sampled and graded again at each
read -r -a extra_w <<<"${DDPM_EXTRA_W:-}"
# size_of FLAG DEFAULT: FLAG's value in BENCH_SIZES, else DEFAULT (the bench's GPU size)
size_of() {
  local i
  for ((i = 0; i + 1 < ${#sizes[@]}; i++)); do
    [[ ${sizes[i]} == "$1" ]] && { echo "${sizes[i + 1]}"; return; }
  done
  echo "$2"
}
# op-cost.js's size flags; empty: the DDPM U-Net's 3x3 layer at batch 256
read -r -a op_cost_sizes <<<"${OP_COST_SIZES:-}"
# core's tests as JavaScript (bundle.js writes packages/core/dist-test: no swc travels)
kernel_tests=${KERNEL_TESTS:-dist-test/engine/kernels dist-test/engine/torch dist-test/engine/engine-parity}
logs=$dev/logs
for f in node.xz modules.tar.xz node-include/node_api.h; do
  if [ ! -f "$dev/$f" ]; then
    echo "gpu-check: $dev/$f is missing: run \`pnpm build && node tools/device/bundle.js\` here and carry build/device" >&2
    exit 2
  fi
done
rm -rf "$logs"
mkdir -p "$out" "$dev/bin" "$logs"
xz -dc "$dev/node.xz" >"$dev/bin/node" && chmod +x "$dev/bin/node"
tar -xJf "$dev/modules.tar.xz"
# DLCV_NATIVE=0: no oneDNN there, so the native engine's specs skip at once
export PATH="$dev/bin:$PATH" DLCV_NATIVE=0 DLCV_CACHE_DIR="$dev/cache"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# limit SECONDS: SECONDS, or less when the budget has less left (0: none left)
limit() {
  local left=$((budget - SECONDS - 5))
  ((left < $1)) && echo $((left > 0 ? left : 0)) || echo "$1"
}
# step NAME SECONDS CMD...: CMD under timeout, its output to $logs/NAME.log, then to $OUT: its
# own file for the measured steps, else appended to steps.log; returns CMD's exit status
step() {
  local name=$1 t rc log=$logs/$1.log
  t=$(limit "$2")
  shift 2
  if ((t < 10)); then
    echo "gpu-check: no time left for $name" | tee "$log"
    rc=124
  else
    echo "gpu-check: $name (at most $t s, $SECONDS s used)"
    timeout "$t" "$@" >"$log" 2>&1
    rc=$?
    tail -n 25 "$log"
  fi
  case $name in
    kernels | bench-* | ddpm-train) cp "$log" "$out/" ;;
    *) { echo "=== $name: exit $rc"; cat "$log"; } >>"$out/steps.log" ;;
  esac
  return $rc
}

{
  node --version
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "cuda available", torch.cuda.is_available())'
} 2>&1 | tee "$logs/env.log"
{ echo "=== env"; cat "$logs/env.log"; } >"$out/steps.log"

step build 240 env DLCV_NODE_INCLUDE="$dev/node-include" node packages/core/scripts/build-torch.js
if [ ! -f packages/core/build/Release/dlcv_torch.node ]; then
  echo "gpu-check: the addon was not built (see build.log)"
  exit 1
fi

if [[ $part == determinism ]]; then
  # The same seed twice on this device, each trainer at small sizes, with the engine's defaults
  # (deterministic algorithms), then a third time with the steps replayed (DLCV_STEP_REPLAY=1,
  # core's replayableStep): every checkpoint file of b and of r must be the bytes of a's.
  export DLCV_ENGINE=libtorch DLCV_TORCH_DEVICE=$device
  step data 90 bash -c 'node packages/core/bin/dlcv-core.js data --only mnistm && node packages/core/bin/dlcv-core.js data --only usps-like'
  failed=0
  for r in a b r; do
    runs=$dev/determinism-$r
    rm -rf "$runs"
    replay=0
    [[ $r == r ]] && replay=1
    export DLCV_STEP_REPLAY=$replay
    step "determinism-ddpm-$r" 60 node packages/ddpm/bin/dlcv-ddpm.js train --steps 20 --n-feat 32 --batch 64 --save-every 20 --out "$runs/ddpm" || failed=1
    step "determinism-gan-$r" 60 node packages/gan/bin/dlcv-gan.js train --demo-digits --ngf 32 --ndf 32 --batch 64 --limit 640 --epochs 1 --save-every 10 --out "$runs/gan" || failed=1
    step "determinism-dann-$r" 60 node packages/dann/bin/dlcv-dann.js train --scenario usps --mode dann --epochs 1 --batch 64 --limit 640 --out "$runs/dann" || failed=1
  done
  unset DLCV_STEP_REPLAY
  # checkpoint tensors and the model files; logs and JSON hold times
  list() { (cd "$1" 2>/dev/null && find . -type f \( -name '*.bin' -o -name '*.png' \) | sort); }
  differ=$failed
  ((failed)) && echo "gpu-check: determinism: a training run failed (see steps.log)"
  [[ -n "$(list "$dev/determinism-a")" ]] || differ=1
  for r in b r; do
    while read -r f; do
      cmp -s "$dev/determinism-a/$f" "$dev/determinism-$r/$f" || { echo "gpu-check: determinism: $f differs in run $r"; differ=1; }
    done < <(list "$dev/determinism-a")
    [[ "$(list "$dev/determinism-a")" == "$(list "$dev/determinism-$r")" ]] || { echo "gpu-check: determinism: runs a and $r wrote different files"; differ=1; }
  done
  grep -h 'step replay' "$out/steps.log" | tail -3
  echo "gpu-check: determinism: $(list "$dev/determinism-a" | wc -l) files compared in runs b and r (replayed), $( ((differ)) && echo 'some differ' || echo 'all the same bytes') ($SECONDS s)" | tee -a "$out/steps.log"
  exit "$differ"
fi

kernels=0
if [[ $part != ddpm ]]; then
  # shellcheck disable=SC2086  # the test paths are words
  (cd packages/core && DLCV_REQUIRE_TORCH=1 step kernels 150 node "$root/node_modules/jest/bin/jest.js" --config dist-test/jest.config.js $kernel_tests)
  kernels=$?
  # each model package's training steps and sampling, and eval's classifier training, on the
  # engine against the tfjs cpu backend, no kernel on the host (their engines.test.ts)
  for pkg in gan ddpm dann eval; do
    (cd "packages/$pkg" && DLCV_REQUIRE_TORCH=1 step "engines-$pkg" 60 node "$root/node_modules/jest/bin/jest.js" --config dist-test/jest.config.js engines)
    kernels=$((kernels || $?))
  done
  wanted() { [[ ",$engine_steps," == *",$1,"* ]]; }
  if wanted bench; then
    for tf32 in "${bench_tf32[@]}"; do
      DLCV_TF32=$tf32 step "bench-tf32-$tf32" 90 node tools/bench/bench.js --device "$device" --no-onnx --steps "$steps" --only "$only" "${sizes[@]}"
    done
  fi
  # each step's host time: inside the addon (ATen's launches) and the JavaScript around it, beside
  # the wall, in fp32 and in TF32 (where the GPU's share is smallest)
  for tf32 in 0 1; do
    wanted "host-time-tf32-$tf32" && DLCV_TF32=$tf32 step "host-time-tf32-$tf32" 60 node tools/bench/host-time.js --device "$device" --steps 10 --by-function "${sizes[@]}"
  done
  # the same split at tiny sizes on this machine's CPU (the wheel's CPU kernels, one thread): the
  # host's JavaScript speed, to set beside the CPU machine's figures for the same command (README
  # "Measuring on a GPU") and beside the CUDA rows' JavaScript per kernel
  wanted host-time-cpu && DLCV_THREADS=1 step host-time-cpu 45 node tools/bench/host-time.js --device cpu --steps 30 \
    --gan-models A --gan-batch 16 --gan-width 8 --n-feat 8 --ddpm-batch 4 --ddpm-forward-batch 8 --dann-batch 16
  # what the op queue saves: each step with ATen's work inside the calls and on the op thread,
  # alternately (TF32: where the host's share of a step is largest)
  wanted queue-tf32-1 && DLCV_TF32=1 step queue-tf32-1 90 node tools/bench/host-time.js --device "$device" --steps 10 --pair-queue "${sizes[@]}"
  # what the op thread's polling saves (on CUDA it polls 200 us before it sleeps): each step with
  # it sleeping at once and polling, alternately, then one call's hand-over cost either way
  if wanted queue-spin; then
    DLCV_TF32=1 step queue-spin-steps 90 node tools/bench/host-time.js --device "$device" --steps 10 --pair-spin 200 "${sizes[@]}"
    step queue-spin-handover 30 node tools/bench/queue-handover.js --device "$device" --calls 20000
  fi
  # what ATen's intra-op threads cost on this device: each step with 1 and with the engine's count
  # (every core), alternately; the ops run on the GPU, so the threads serve only host-side work
  # (and OpenMP's idle workers spin a while before they sleep)
  wanted threads-tf32-1 && DLCV_TF32=1 step threads-tf32-1 90 node tools/bench/host-time.js --device "$device" --steps 10 --pair-threads 1 "${sizes[@]}"
  # what ATen's fused Adam kernel saves against the eleven foreach ops: each step with either,
  # alternately (the engine's default where the device has the kernel is the fused one)
  wanted adam-tf32-1 && DLCV_TF32=1 step adam-tf32-1 90 node tools/bench/host-time.js --device "$device" --steps 10 --pair-adam "${sizes[@]}"
  # what queueing BatchNorm's running statistics to the step's end saves (one runningAverages
  # call a round, each a few multi-tensor launches, instead of one a layer call)
  wanted stats-tf32-1 && DLCV_TF32=1 step stats-tf32-1 60 node tools/bench/host-time.js --device "$device" --steps 10 --only dcgan,ddpm --pair-running-stats "${sizes[@]}"
  # one call of each heavy op, ours against PyTorch's on the same device: where the addon's host
  # cost per call goes
  wanted op-cost-tf32-1 && DLCV_TF32=1 step op-cost-tf32-1 60 node tools/bench/op-cost.js --device "$device" "${op_cost_sizes[@]}"
  # fp32 with the convolutions on contiguous NCHW copies, PyTorch's layout, to set beside
  # bench-tf32-0's channels-last rows (cuDNN's NHWC and NCHW algorithms differ)
  wanted nchw && DLCV_TF32=0 DLCV_TORCH_CONV_LAYOUT=nchw step bench-nchw 60 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --steps "$steps" --only "$only" "${sizes[@]}"
  # where a DDPM training step's time goes, kernel by kernel (each timed to its end on the device)
  wanted profile && step profile-ddpm 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only ddpm --profile ddpm_train "${sizes[@]}"
  # the sampling forward (TF32, the ddpm part's precision), ours kernel by kernel and PyTorch's op
  # by op under torch.profiler, at the same batch and width
  if wanted profile-forward; then
    DLCV_TF32=1 step profile-forward 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only ddpm --profile ddpm_forward "${sizes[@]}"
    DLCV_TF32=1 step profile-forward-torch 45 python3 packages/core/python/torch_reference.py profile ddpm_forward --forward-batch "$(size_of --ddpm-forward-batch 2000)" --n-feat "$(size_of --n-feat 128)" --device "$device"
  fi
  # the training steps of DDPM, DCGAN model A and DANN and the sampling forward under Kineto in
  # TF32, ours and PyTorch's: the ATen ops each issues, the kernels, copies and fills on the GPU
  # and their device time (the forward: the device sampler's call, whose time the GPU bounds)
  if wanted profile-aten; then
    gan_width=$(size_of --gan-width 64)
    DLCV_TF32=1 step profile-aten-forward 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only ddpm --profile-aten ddpm_forward_device "${sizes[@]}"
    DLCV_TF32=1 step profile-aten-forward-torch 45 python3 packages/core/python/torch_reference.py profile ddpm_forward --forward-batch "$(size_of --ddpm-forward-batch 2000)" --n-feat "$(size_of --n-feat 128)" --warmup 2 --device "$device"
    DLCV_TF32=1 step profile-aten-ddpm 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only ddpm --profile-aten ddpm_train "${sizes[@]}"
    DLCV_TF32=1 step profile-aten-ddpm-torch 45 python3 packages/core/python/torch_reference.py profile ddpm_train --batch "$(size_of --ddpm-batch 256)" --n-feat "$(size_of --n-feat 128)" --warmup 2 --device "$device"
    DLCV_TF32=1 step profile-aten-dcgan 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only dcgan --gan-models A --profile-aten dcgan_A_train "${sizes[@]}"
    DLCV_TF32=1 step profile-aten-dcgan-torch 45 python3 packages/core/python/torch_reference.py profile dcgan_train --batch "$(size_of --gan-batch 128)" --width "$gan_width" --warmup 2 --device "$device"
    DLCV_TF32=1 step profile-aten-dann 45 node tools/bench/bench.js --device "$device" --no-onnx --no-torch --only dann --profile-aten dann_train "${sizes[@]}"
    DLCV_TF32=1 step profile-aten-dann-torch 45 python3 packages/core/python/torch_reference.py profile dann_train --batch "$(size_of --dann-batch 256)" --warmup 2 --device "$device"
  fi
fi
if [[ $part == engine ]]; then
  echo "gpu-check: engine part done in $SECONDS s; kernel suite and engine tests exit $kernels"
  exit "$kernels"
fi

# the ddpm gpu preset: train, sample the 1,000 graded digits in one batch, grade (TF32 unless DDPM_TF32=0)
export DLCV_ENGINE=libtorch DLCV_TORCH_DEVICE=$device DLCV_TF32=${DDPM_TF32:-1}
run=$dev/ddpm-gpu
rm -rf "$run"
step data 60 node packages/core/bin/dlcv-core.js data --only mnistm
t0=$(now)
# training leaves 140 s for sampling and grading (200 s in the ddpm part, which also measures
# PyTorch's U-Net forward for the sampling target); sampling takes what training left of it
reserve=140
[[ $part == ddpm ]] && reserve=200
step ddpm-train $((budget - SECONDS - reserve)) node packages/ddpm/bin/dlcv-ddpm.js train --preset gpu --out "$run" "${train_flags[@]}"
ddpm=$?
train_s=$(since "$t0")
t0=$(now)
((ddpm == 0)) && step ddpm-sample $((budget - SECONDS - 20)) node packages/ddpm/bin/dlcv-ddpm.js sample "$run/samples-graded" --model "$run/model" --batch 1000 "${sample_flags[@]}"
ddpm=$((ddpm || $?))
sample_s=$(since "$t0")
((ddpm == 0)) && step grade 15 node packages/eval/bin/dlcv-eval.js digits "$run/samples-graded" --json
ddpm=$((ddpm || $?))
# without the engine part's bench in this call: PyTorch's (and our) DDPM steps at the run's precision
[[ $part == ddpm ]] && step "bench-ddpm-tf32-$DLCV_TF32" 60 node tools/bench/bench.js --device "$device" --no-onnx --steps 5 --only ddpm "${sizes[@]}"
# the same model and sampler at other guidance weights (DDPM_EXTRA_W='3 4'), with what the budget leaves
for w in "${extra_w[@]}"; do
  ((ddpm == 0)) || break
  step "ddpm-sample-w$w" $((budget - SECONDS - 20)) node packages/ddpm/bin/dlcv-ddpm.js sample "$run/samples-w$w" --model "$run/model" --batch 1000 "${sample_flags[@]}" --w "$w" &&
    step "grade-w$w" 15 node packages/eval/bin/dlcv-eval.js digits "$run/samples-w$w" --json
done
node tools/device/ddpm-summary.js "$run" "$logs" "$train_s" "$sample_s" | tee "$out/ddpm-gpu.json"
echo "gpu-check: $part done in $SECONDS s; kernel suite exit $kernels, ddpm run exit $ddpm"
((kernels != 0)) && exit "$kernels"
exit "$ddpm"
