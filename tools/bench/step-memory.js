#!/usr/bin/env node
// The memory one step of each of the bench's GPU cases holds at its peak, with core's gradient
// release (nn/backward-pass.ts: a backward pass frees each node's saved tensors and output
// gradients once the node is done) off and on: the peak, over the step's kernels, of the bytes
// of live tensor data above what was alive before the step. Counted per data buffer from the
// backend's own storage (write, move, disposeData), so it runs on the engines that keep tensors
// in JavaScript arrays: native (the default) and cpu; the libtorch engine keeps them in ATen.
// --torch adds PyTorch CPU's peak for the same network and batch (core's torch_reference.py,
// its serve command `memory`: the profiler's allocation events in time order).
//   node tools/bench/step-memory.js [--engine native|cpu] [--only dcgan,ddpm,dann] [--torch]
//     [sizes as bench.js --device: --ddpm-batch 32 --ddpm-forward-batch 200 --n-feat 128 ...]
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');

const { flagValue: arg } = require('./flag-value');
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');

const ENGINE = String(arg('engine', 'native'));
if (ENGINE !== 'native' && ENGINE !== 'cpu') throw new Error(`step-memory: --engine must be native or cpu (the libtorch engine keeps its tensors in ATen), got ${ENGINE}`);

/** Live data bytes of the backend (a buffer counted once however many tensors view it), and their peak. */
function trackBytes(backend) {
  const data = backend.data;
  const live = new Map();
  const t = { bytes: 0, peak: 0 };
  const bytesOf = (values, shape) => (values && values.byteLength !== undefined ? values.byteLength : 0) || shape.reduce((a, b) => a * b, 1) * 4;
  const set = (id, n) => {
    t.bytes += n - (live.get(id) ?? 0);
    live.set(id, n);
    if (t.bytes > t.peak) t.peak = t.bytes;
  };
  const { write, move, disposeData } = backend;
  backend.write = function (values, shape, dtype) {
    const id = write.call(this, values, shape, dtype);
    set(id, bytesOf(values, shape));
    return id;
  };
  backend.move = function (id, values, shape, dtype, refCount) {
    move.call(this, id, values, shape, dtype, refCount);
    set(id, bytesOf(values, shape));
  };
  backend.disposeData = function (id, force) {
    const released = disposeData.call(this, id, force);
    if (live.has(id) && !data.has(id)) {
      t.bytes -= live.get(id);
      live.delete(id);
    }
    return released;
  };
  return t;
}

/** PyTorch CPU's peak bytes of each case (by its serve command), or null without a Python with torch. */
function torchPeaks(cases, threads) {
  const { python, tried } = core.findTorchPython();
  if (!python) {
    console.log(`no Python with torch (${tried}): no PyTorch column`);
    return null;
  }
  const commands = Object.values(cases).map((c) => `memory ${c.torch}`);
  const r = spawnSync(python, ['-B', core.TORCH_REFERENCE_SCRIPT, 'serve', '--threads', String(threads), '--device', 'cpu'], {
    input: [...commands, 'quit'].join('\n') + '\n',
    encoding: 'utf8',
    env: core.torchPythonEnv(process.env),
  });
  if (r.status !== 0) throw new Error(`step-memory: PyTorch's serve exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const out = JSON.parse(line);
      if (out.error) throw new Error(`step-memory: PyTorch: ${out.error}`);
      return out.peak;
    });
}

(async () => {
  const eng = await core.setupEngine({ engine: ENGINE });
  console.log(core.describeEngine(eng));
  const t = trackBytes(tf.backend());
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'dcgan,ddpm,dann')).split(','), sizes: gpuSizes(arg) });
  const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log('\nThe most tensor data alive during one step, above what was alive before it\n');
  const torch = process.argv.includes('--torch') ? torchPeaks(cases, eng.threads) : null;
  console.log(`| step | gradient release off | on | less |${torch ? ' PyTorch CPU |' : ''}\n|---|---|---|---|${torch ? '---|' : ''}`);
  for (const [i, c] of Object.values(cases).entries()) {
    // warm-up: optimizer state, and any tensor a case keeps from its first step
    for (let warm = 0; warm < 2; warm++) await c.run();
    const peaks = [];
    for (const on of [false, true]) {
      core.setGradientRelease(on);
      const before = t.bytes;
      t.peak = before;
      await c.run();
      peaks.push(t.peak - before);
    }
    core.setGradientRelease(true);
    const [off, on] = peaks;
    console.log(`| ${c.label} | ${mib(off)} | ${mib(on)} | ${off > 0 ? `${Math.round((100 * (off - on)) / off)}%` : '-'} |${torch ? ` ${mib(torch[i])} |` : ''}`);
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
