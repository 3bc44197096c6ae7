#!/usr/bin/env node
// What handing one op to the libtorch addon's op thread costs the calling (JavaScript) thread,
// with the op thread sleeping as soon as it finds no op (it must be woken: a system call in the
// call) and with it polling for the next op first (addon.setQueueSpin). Each row queues N tiny
// in-place adds with a pause of JavaScript work between them, as a training step's kernels come,
// and reports the median time of a call (the addon's argument parsing and the hand-over; the add
// itself runs on the op thread).
//   node tools/bench/queue-handover.js [--device cpu|cuda] [--calls 20000] [--spin 200]
// On a 2-core CPU run it with DLCV_THREADS=1, so that the polling op thread has a core of its own.
'use strict';
const path = require('path');
const { performance } = require('perf_hooks');

const { flagValue: arg, positiveIntFlag } = require('./flag-value');
const DEVICE = String(arg('device', 'cpu'));
if (DEVICE !== 'cpu' && DEVICE !== 'cuda') throw new Error(`queue-handover: --device must be cpu or cuda, got ${DEVICE}`);
process.env.DLCV_TORCH_DEVICE = DEVICE;
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');

const CALLS = positiveIntFlag('queue-handover', 'calls', 20000);
const SPIN = positiveIntFlag('queue-handover', 'spin', 200);
const PAUSES_US = [0, 10, 30];
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

/** Median microseconds of a call queueing an add, with `pauseUs` of busy JavaScript before each. */
function callCost(addon, pauseUs) {
  const add = addon.opCodes().binary.Add;
  const total = addon.upload(new Float32Array([0]), [1], 0);
  const one = addon.upload(new Float32Array([1]), [1], 0);
  const us = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const until = performance.now() + pauseUs / 1000;
    while (performance.now() < until);
    const t0 = performance.now();
    addon.binaryInPlace(add, total, one);
    us[i] = (performance.now() - t0) * 1000;
  }
  const out = new Float32Array(1);
  addon.download(total, out);
  if (out[0] !== CALLS) throw new Error(`queue-handover: ${CALLS} adds of 1 gave ${out[0]}`);
  addon.free(total);
  addon.free(one);
  return median(us);
}

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const addon = tf.backend().addon;
  const { queue, queueSpin } = addon.info();
  addon.setQueue(1);
  console.log(`\nMedian time of a call that queues an op, of ${CALLS} calls (us)\n`);
  console.log(`| JavaScript between calls | op thread sleeps when idle | op thread polls ${SPIN} us |\n|---|---|---|`);
  for (const pause of PAUSES_US) {
    const cost = [];
    for (const spin of [0, SPIN]) {
      addon.setQueueSpin(spin);
      callCost(addon, pause); // warm-up
      cost.push(callCost(addon, pause));
    }
    console.log(`| ${pause} us | ${cost[0].toFixed(2)} | ${cost[1].toFixed(2)} |`);
  }
  addon.setQueueSpin(queueSpin);
  addon.setQueue(queue);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
