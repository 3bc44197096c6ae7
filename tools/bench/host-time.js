#!/usr/bin/env node
// Where the host's time goes in one step of each of the bench's GPU cases on the libtorch engine.
// Every addon function is wrapped and timed, so a step splits into the time inside the addon
// (ATen: on a CPU the kernels themselves, on CUDA their launches and the allocator) and the
// JavaScript around it (tfjs's engine, tape and tensor bookkeeping, the backend, the model code).
// On CUDA the device runs behind the host: a step cannot take less than the host's issue time
// (its start to the return of its last addon call), and when that time is longer than the
// device's, the step is host-bound. The JavaScript part is the same on both devices, so a CPU
// run at tiny sizes measures it here.
//   node tools/bench/host-time.js [--device cpu|cuda] [--only dcgan,ddpm,dann] [--steps 10]
//     [sizes as bench.js --device]
'use strict';
const path = require('path');

const { flagValue: arg } = require('./flag-value');
process.env.DLCV_TORCH_DEVICE = String(arg('device', 'cpu'));
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');

const STEPS = Number(arg('steps', 10));
if (!Number.isInteger(STEPS) || STEPS < 1) throw new Error(`host-time: --steps must be a positive integer, got ${arg('steps', 10)}`);

const { performance } = require('perf_hooks');
const now = () => performance.now(); // ms

/** Wraps every function of the addon; returns the running totals they add to. */
function timeAddon(addon) {
  const t = { insideMs: 0, calls: 0, lastReturn: 0 };
  for (const name of Object.keys(addon)) {
    if (typeof addon[name] !== 'function') continue;
    const original = addon[name].bind(addon);
    addon[name] = (...args) => {
      const t0 = now();
      try {
        return original(...args);
      } finally {
        const t1 = now();
        t.insideMs += t1 - t0;
        t.calls += 1;
        t.lastReturn = t1;
      }
    };
  }
  return t;
}

/** Wraps every kernel of the backend (ours and tfjs's own, run on the host); returns the run count. */
function countKernels(backendName) {
  const runs = { n: 0 };
  for (const config of tf.getKernelsForBackend(backendName)) {
    tf.unregisterKernel(config.kernelName, backendName);
    const kernelFunc = config.kernelFunc;
    tf.registerKernel({ ...config, kernelFunc: (args) => ((runs.n += 1), kernelFunc(args)) });
  }
  return runs;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const t = timeAddon(tf.backend().addon);
  const runs = countKernels(tf.getBackend());
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'dcgan,ddpm,dann')).split(','), sizes: gpuSizes(arg) });
  console.log(`\nMedians of ${STEPS} steps (each column on its own)\n`);
  console.log('| step | wall | host issue time | inside the addon | JavaScript | tfjs kernels | addon calls | JavaScript per kernel |\n|---|---|---|---|---|---|---|---|');
  for (const c of Object.values(cases)) {
    await c.run(); // the first step builds optimizer state
    const rows = [];
    for (let i = 0; i < STEPS; i++) {
      const k0 = runs.n;
      const inside0 = t.insideMs;
      const calls0 = t.calls;
      const t0 = now();
      await c.run();
      const wall = now() - t0;
      const issue = t.lastReturn - t0;
      const inside = t.insideMs - inside0;
      const kernels = runs.n - k0;
      rows.push({ wall, issue, inside, js: issue - inside, kernels, calls: t.calls - calls0 });
    }
    const m = (key) => median(rows.map((r) => r[key]));
    const ms = (v) => `${v.toFixed(1)} ms`;
    console.log(
      `| ${c.label} | ${ms(m('wall'))} | ${ms(m('issue'))} | ${ms(m('inside'))} | ${ms(m('js'))} | ${m('kernels')} | ${m('calls')} | ${((1000 * m('js')) / m('kernels')).toFixed(1)} us |`,
    );
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
