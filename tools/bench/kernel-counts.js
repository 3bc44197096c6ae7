#!/usr/bin/env node
// The tfjs kernel calls of one step of each of the bench's GPU cases, by name, the most first, as
// tf.profile lists them (each call through the engine: what costs the host a kernel call's
// bookkeeping). DLCV_BACKWARD_PASS=tfjs counts them with tfjs's own backward pass and saves.
//   node tools/bench/kernel-counts.js [--engine libtorch|native|cpu] [--only dcgan,ddpm,dann]
//     [sizes as bench.js --device: --n-feat 8 --ddpm-batch 4 --gan-batch 4 --gan-width 8 ...]
'use strict';
const path = require('path');

const { flagValue: arg } = require('./flag-value');
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
if (!process.env.DLCV_TORCH_DEVICE) process.env.DLCV_TORCH_DEVICE = 'cpu';
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');

(async () => {
  const eng = await core.setupEngine({ engine: String(arg('engine', 'libtorch')) });
  console.log(core.describeEngine(eng));
  console.log(`backward pass: ${core.backwardPassInfo().kind}\n`);
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'dcgan,ddpm,dann')).split(','), sizes: gpuSizes(arg) });
  console.log('| step | kernel calls | the most called |\n|---|---|---|');
  for (const c of Object.values(cases)) {
    await c.run(); // warm-up: optimizer state, first-use work
    const { kernels } = await tf.profile(() => c.run());
    const byName = new Map();
    for (const k of kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
    const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`| ${c.label} | ${kernels.length} | ${top.map(([name, n]) => `${name} ${n}`).join(', ')} |`);
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
