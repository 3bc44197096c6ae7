#!/usr/bin/env node
// Host-device transfers of one step of each of the bench's GPU cases on the libtorch engine:
// the addon's uploads (scalars among them: tfjs writes every number an op takes) and downloads,
// counted by wrapping the addon, beside the fills: the engine keeps a written array of one
// repeated value (most scalars, tfjs's zero gradients of unused outputs) as that value, and fills
// it on the device only when a kernel other than add, sub and multiply (which take it as a
// number) needs it. On CUDA each upload or download is a copy the host issues between kernels; a
// fill is a kernel. A synchronous download (dataSync) stops the host until the device has run all
// it was given; the others (data()) wait on a libuv thread.
//   node tools/bench/transfers.js [--device cpu|cuda] [--only dcgan,ddpm,dann] [sizes as bench.js --device]
'use strict';
const path = require('path');

const { flagValue: arg } = require('./flag-value');
process.env.DLCV_TORCH_DEVICE = String(arg('device', 'cpu'));
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const addon = tf.backend().addon; // the dlcv-torch backend's addon
  const counts = { uploads: 0, scalars: 0, downloads: 0, waited: 0, fills: 0 };
  for (const [name, count] of [
    ['upload', (values) => ((counts.uploads += 1), values.length === 1 && (counts.scalars += 1))],
    ['download', () => ((counts.downloads += 1), (counts.waited += 1))],
    ['downloadAsync', () => (counts.downloads += 1)],
    ['fill', () => (counts.fills += 1)],
  ]) {
    const original = addon[name].bind(addon);
    addon[name] = (...args) => (count(args[0] && args[0].length !== undefined ? args[0] : args[1]), original(...args));
  }
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'dcgan,ddpm,dann')).split(','), sizes: gpuSizes(arg) });
  console.log('| step | uploads | of them scalars | downloads | of them synchronous | filled on the device |\n|---|---|---|---|---|---|');
  for (const c of Object.values(cases)) {
    await c.run(); // the first step builds optimizer state
    Object.assign(counts, { uploads: 0, scalars: 0, downloads: 0, waited: 0, fills: 0 });
    await c.run();
    console.log(`| ${c.label} | ${counts.uploads} | ${counts.scalars} | ${counts.downloads} | ${counts.waited} | ${counts.fills} |`);
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
