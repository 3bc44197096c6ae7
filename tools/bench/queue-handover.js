#!/usr/bin/env node
// What handing one op to the libtorch addon's op thread costs the calling (JavaScript) thread,
// with the op thread sleeping as soon as it finds no op (it must be woken: a system call in the
// call) and with it polling for the next op first (addon.setQueueSpin). Each row queues N tiny
// in-place adds with a pause of JavaScript work between them, as a training step's kernels come,
// and reports the median time of a call (the addon's argument parsing and the hand-over; the add
// itself runs on the op thread). A second table times what a training step does with each tensor:
// an op that makes a new tensor from the one before, and the free of the one before (a handle
// made, a handle freed), the median time of the pair.
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

/** Median microseconds of `call()` over CALLS calls, each after `pauseUs` of busy JavaScript. */
function medianCallUs(pauseUs, call) {
  const us = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const until = performance.now() + pauseUs / 1000;
    while (performance.now() < until);
    const t0 = performance.now();
    call();
    us[i] = (performance.now() - t0) * 1000;
  }
  return median(us);
}

/** The one value of a one-element tensor, read back. */
function readOne(addon, h) {
  const out = new Float32Array(1);
  addon.download(h, out);
  return out[0];
}

/** Median microseconds of a call queueing an add, with `pauseUs` of busy JavaScript before each. */
function callCost(addon, pauseUs) {
  const add = addon.opCodes().binary.Add;
  const total = addon.upload(new Float32Array([0]), [1], 0);
  const one = addon.upload(new Float32Array([1]), [1], 0);
  const us = medianCallUs(pauseUs, () => addon.binaryInPlace(add, total, one));
  const got = readOne(addon, total);
  if (got !== CALLS) throw new Error(`queue-handover: ${CALLS} adds of 1 gave ${got}`);
  addon.free(total);
  addon.free(one);
  return us;
}

/** Median microseconds of an add making a new tensor from the last one plus the free of the last one, `pauseUs` of busy JavaScript before each pair. */
function makeAndFreeCost(addon, pauseUs) {
  const add = addon.opCodes().binary.Add;
  const one = addon.upload(new Float32Array([1]), [1], 0);
  let last = addon.binary(add, one, one);
  const us = medianCallUs(pauseUs, () => {
    const next = addon.binary(add, last, one);
    addon.free(last);
    last = next;
  });
  const got = readOne(addon, last);
  if (got !== CALLS + 2) throw new Error(`queue-handover: ${CALLS + 1} adds of 1 to 1 gave ${got}`);
  addon.free(last);
  addon.free(one);
  return us;
}

/** A table of `cost(addon, pause)` for each pause, the op thread sleeping and polling. */
function table(addon, title, cost) {
  console.log(`\n${title}, of ${CALLS} (us)\n`);
  console.log(`| JavaScript between | op thread sleeps when idle | op thread polls ${SPIN} us |\n|---|---|---|`);
  for (const pause of PAUSES_US) {
    const row = [];
    for (const spin of [0, SPIN]) {
      addon.setQueueSpin(spin);
      cost(addon, pause); // warm-up
      row.push(cost(addon, pause));
    }
    console.log(`| ${pause} us | ${row[0].toFixed(2)} | ${row[1].toFixed(2)} |`);
  }
}

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const addon = tf.backend().addon;
  const { queue, queueSpin } = addon.info();
  addon.setQueue(1);
  table(addon, 'Median time of a call that queues an op', callCost);
  table(addon, 'Median time of an op making a tensor plus the free of the one before', makeAndFreeCost);
  addon.setQueueSpin(queueSpin);
  addon.setQueue(queue);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
