#!/usr/bin/env node
// What one call of each heavy addon op costs the host, beside the same ATen op called from
// PyTorch on the same device: a convolution and its two gradients, a matrix product, batch norm's
// training form, an add over a large and over a tiny tensor. Each case calls the op N times
// (freeing each result, as a training step does) and reports the host's time per call until the
// last call returns ("issue") and until the device has finished them all ("total"). With the
// queue off (the default here) the calling thread runs ATen, so "issue" is ATen's host work plus
// the addon's; PyTorch's "issue" is the same ATen op's without the addon. On CUDA a gap between
// the two is the addon's own cost (layout copies, views, handles); on a CPU both are the
// arithmetic.
//   node tools/bench/op-cost.js [--device cpu|cuda] [--calls 200] [--queue 0|1]
//     [--batch 256] [--size 28] [--channels 128] [--features 512]
// Defaults: a 3x3 convolution of the DDPM U-Net (n_feat 128, batch 256, 28x28) and a 256 x 512
// by 512 x 512 product. PyTorch runs with the engine's settings: deterministic algorithms
// (unless DLCV_TORCH_DETERMINISTIC=0), TF32 when DLCV_TF32=1, inference mode; its convolutions
// on channels-last tensors (our layout) and, for the forward, on contiguous NCHW (its models').
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const { performance } = require('perf_hooks');

const { flagValue: arg, positiveIntFlag } = require('./flag-value');
const DEVICE = String(arg('device', 'cpu'));
if (DEVICE !== 'cpu' && DEVICE !== 'cuda') throw new Error(`op-cost: --device must be cpu or cuda, got ${DEVICE}`);
process.env.DLCV_TORCH_DEVICE = DEVICE;
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');

const int = (name, def) => positiveIntFlag('op-cost', name, def);
const CALLS = int('calls', 200);
const QUEUE = Number(arg('queue', 0));
if (QUEUE !== 0 && QUEUE !== 1) throw new Error(`op-cost: --queue must be 0 or 1, got ${arg('queue', 0)}`);
const B = int('batch', 256);
const S = int('size', 28);
const C = int('channels', 128);
const F = int('features', 512);

// The PyTorch side: the same ops and sizes, timed the same way; prints { case: [issue_us, total_us] }.
const PYTHON = String.raw`
import json, os, sys, time
import torch
dev, B, S, C, F, calls = sys.argv[1], *map(int, sys.argv[2:7])
torch.backends.cudnn.benchmark = False
det = os.environ.get("DLCV_TORCH_DETERMINISTIC", "1") != "0"
torch.backends.cudnn.deterministic = det
torch.use_deterministic_algorithms(det, warn_only=True)
tf32 = os.environ.get("DLCV_TF32") == "1"
torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.allow_tf32 = tf32
torch.manual_seed(0)
cl = torch.channels_last
x = torch.randn(B, C, S, S, device=dev).to(memory_format=cl)
w = torch.randn(C, C, 3, 3, device=dev).to(memory_format=cl)
dy = torch.randn(B, C, S, S, device=dev).to(memory_format=cl)
xn, wn = x.contiguous(), w.contiguous()
m, k = torch.randn(B, F, device=dev), torch.randn(F, F, device=dev)
g, b = torch.ones(C, device=dev), torch.zeros(C, device=dev)
t4 = torch.randn(4, device=dev)
conv_bw = torch.ops.aten.convolution_backward
cases = {
    "conv2d": lambda: torch.nn.functional.conv2d(x, w, padding=1),
    "conv2d, NCHW": lambda: torch.nn.functional.conv2d(xn, wn, padding=1),
    "conv2dBackpropInput": lambda: conv_bw(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, False, False]),
    "conv2dBackpropFilter": lambda: conv_bw(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [False, True, False]),
    "matmul": lambda: torch.mm(m, k),
    "batchNormTrain": lambda: torch.native_batch_norm(x, g, b, None, None, True, 0.0, 1e-5),
    "add, large": lambda: x + x,
    "add, 4 values": lambda: t4 + t4,
}
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
out = {}
with torch.inference_mode():
    for name, op in cases.items():
        for _ in range(10):
            op()
        sync()
        t0 = time.perf_counter()
        for _ in range(calls):
            op()
        t1 = time.perf_counter()
        sync()
        t2 = time.perf_counter()
        out[name] = [(t1 - t0) / calls * 1e6, (t2 - t0) / calls * 1e6]
print(json.dumps(out))
`;

/** The addon's cases: name -> a call returning the handles it made (to be freed). */
function ourCases(a) {
  const values = (n) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const up = (shape) => a.upload(values(shape.reduce((p, q) => p * q, 1)), shape, 0);
  const x = up([B, S, S, C]);
  const dy = up([B, S, S, C]);
  const w = up([3, 3, C, C]);
  const m = up([B, F]);
  const k = up([F, F]);
  const g = a.upload(new Float32Array(C).fill(1), [C], 0);
  const b = a.upload(new Float32Array(C), [C], 0);
  const t4 = up([4]);
  const { binary } = a.opCodes();
  // [n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw]: 3x3, stride 1, 'same'
  const conv = [B, S, S, C, 3, 3, C, S, S, 1, 1, 1, 1, 1, 1, 1, 1];
  return {
    conv2d: () => [a.conv2d(x, w, conv, null)],
    conv2dBackpropInput: () => [a.conv2dBackpropInput(dy, w, conv)],
    conv2dBackpropFilter: () => [a.conv2dBackpropFilter(x, dy, conv)],
    matmul: () => [a.matmul(m, k, 1, 1, B, F, F, 0, 0, [B, F])],
    batchNormTrain: () => a.batchNormTrain(x, g, b, 1e-5),
    'add, large': () => [a.binary(binary.Add, x, x)],
    'add, 4 values': () => [a.binary(binary.Add, t4, t4)],
  };
}

function timeOurs(a, op) {
  for (let i = 0; i < 10; i++) for (const h of op()) a.free(h);
  a.sync();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) for (const h of op()) a.free(h);
  const t1 = performance.now();
  a.sync();
  const t2 = performance.now();
  return [((t1 - t0) / CALLS) * 1000, ((t2 - t0) / CALLS) * 1000];
}

function timeTorch() {
  const { python, tried } = core.findTorchPython();
  if (!python) return { error: `no python3 with torch (tried ${tried.join(', ')})` };
  const r = spawnSync(python, ['-B', '-c', PYTHON, DEVICE, ...[B, S, C, F, CALLS].map(String)], {
    encoding: 'utf8',
    env: { ...process.env, ...core.TORCH_MALLOC_ENV },
    timeout: 600_000,
  });
  if (r.status !== 0) return { error: `PyTorch side failed: ${(r.stderr || '').trim().split('\n').pop()}` };
  return { times: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const a = tf.backend().addon;
  a.setQueue(QUEUE);
  const ours = Object.entries(ourCases(a)).map(([name, op]) => [name, timeOurs(a, op)]);
  const torch = timeTorch();
  if (torch.error) console.log(`PyTorch: ${torch.error}`);
  const us = (v) => (v === undefined ? '-' : v < 100 ? `${v.toFixed(1)} us` : `${Math.round(v)} us`);
  console.log(
    `\nPer call, means of ${CALLS} calls (op queue ${QUEUE ? 'on: "issue" is only the queueing' : 'off'}); batch ${B}, ${S}x${S}, ${C} channels, matmul ${B}x${F} by ${F}x${F}\n`,
  );
  console.log('| op | ours: issue | PyTorch: issue | ours: total | PyTorch: total |\n|---|---|---|---|---|');
  // PyTorch's order (its NCHW forward beside the channels-last one), then any case only we ran
  const names = [...new Set([...Object.keys(torch.times ?? {}), ...ours.map(([n]) => n)])];
  for (const name of names) {
    const o = ours.find(([n]) => n === name)?.[1] ?? [];
    const p = torch.times?.[name] ?? [];
    console.log(`| ${name} | ${us(o[0])} | ${us(p[0])} | ${us(o[1])} | ${us(p[1])} |`);
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
