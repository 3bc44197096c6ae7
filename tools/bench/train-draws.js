#!/usr/bin/env node
// The ddpm trainer's per-step draws (t, the noise and the class mask of a batch), timed on the
// training thread and on N draw threads (ddpm's workerStepDraws, as `train --draw-threads N`),
// with nothing else running: what a step's draws cost the host, and whether the threads keep up
// with a GPU's step. The draws of every source are compared with the training thread's. Then
// the rest of a step's host inputs (ddpm's hostStepInputs: x_t and the condition arrays), which
// the trainer prepares for the next step while the engine trains.
//   node tools/bench/train-draws.js [--batch 256] [--threads 1,2] [--steps 12]
'use strict';
const core = require('@dlcv/core');
const ddpm = require('@dlcv/ddpm');
const { performance } = require('node:perf_hooks');

const { flagValue: arg } = require('./flag-value');
const batch = Number(arg('batch', 256));
const threadCounts = String(arg('threads', '1,2')).split(',').map(Number);
const steps = Number(arg('steps', 12));
const spec = { batch, valuesPerImage: 28 * 28 * 3, timesteps: 400, pUncond: 0.1 };

async function run(threads) {
  const start = new core.Rng(0, 22);
  const source = threads === 0 ? ddpm.inlineStepDraws(start, spec, 0) : ddpm.workerStepDraws(start.getState(), spec, 0, steps, threads);
  const times = [];
  const draws = [];
  try {
    for (let k = 0; k < steps; k++) {
      const t0 = performance.now();
      draws.push(await source.take(k));
      times.push(performance.now() - t0);
    }
  } finally {
    await source.close();
  }
  // the first steps start the threads and warm the code up
  const kept = times.slice(Math.min(4, steps - 1)).sort((a, b) => a - b);
  return { median: kept[Math.floor(kept.length / 2)], draws };
}

(async () => {
  console.log(
    `ddpm trainer's draws for a batch of ${batch} (${(batch * spec.valuesPerImage).toLocaleString('en')} normals a step), ${steps} steps taken back to back, median after the first four`,
  );
  const reference = await run(0);
  console.log('| drawn on | ms per step |\n|---|---|');
  console.log(`| the training thread | ${reference.median.toFixed(1)} |`);
  for (const n of threadCounts) {
    const { median, draws } = await run(n);
    draws.forEach((d, k) => {
      const r = reference.draws[k];
      const same = Buffer.from(d.eps.buffer).equals(Buffer.from(r.eps.buffer)) && JSON.stringify([d.ts, d.drop, d.rngAfter]) === JSON.stringify([r.ts, r.drop, r.rngAfter]);
      if (!same) throw new Error(`train-draws: ${n} threads drew other values than the training thread at step ${k}`);
    });
    console.log(`| ${n} draw thread${n > 1 ? 's' : ''} | ${median.toFixed(1)} |`);
  }
  console.log("(every step's draws identical to the training thread's)");
  const noiser = new ddpm.DDPMScheduler({ num_train_timesteps: spec.timesteps });
  const unet = ddpm.DEFAULT_UNET_CONFIG; // 28x28x3, 10 classes
  const x0 = new core.Rng(1).uniformArray(batch * spec.valuesPerImage, -1, 1);
  const labels = Array.from({ length: batch }, (_, i) => i % unet.nClasses);
  const times = reference.draws.map((d) => {
    const t0 = performance.now();
    ddpm.hostStepInputs(noiser, d, { x0, labels }, unet);
    return performance.now() - t0;
  });
  const kept = times.slice(Math.min(4, steps - 1)).sort((a, b) => a - b);
  console.log(`x_t and the condition arrays of a step (hostStepInputs), on the training thread: ${kept[Math.floor(kept.length / 2)].toFixed(1)} ms`);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
