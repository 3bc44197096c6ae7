#!/usr/bin/env node
// The ddpm sampler's host work per step, measured apart from the network: a stand-in network
// that takes a fixed time without using the CPU (as a forward on a GPU does: the host only
// waits) and returns a noise prediction, so each step's time is that wait plus what the host
// does around it (noise, guidance, the scheduler's arithmetic, copies). Run with the per-image
// work on the main thread and on worker threads (ddpm's StepWorkerPool), alternately; the
// images are compared byte for byte. A step's time is the mean interval between steps after the
// first (the threads start with the first batch).
//   node tools/bench/sampler-host.js [--images 1000] [--steps 10] [--forward-ms 50] [--workers 1,8] [--repeats 2]
//     [--sampler ddpm|ddim]   (ddim: eta 0, no noise after x_T)
'use strict';
const { setTimeout } = require('node:timers');
const ddpm = require('@dlcv/ddpm');

const { flagValue: arg } = require('./flag-value');
const images = Number(arg('images', 1000));
const steps = Number(arg('steps', 10));
const forwardMs = Number(arg('forward-ms', 50));
const workerCounts = String(arg('workers', '1,8')).split(',').map(Number);
const repeats = Number(arg('repeats', 2));
const samplerName = String(arg('sampler', 'ddpm'));

const unet = { ...ddpm.DEFAULT_UNET_CONFIG, nFeat: 8 };
// One fixed prediction for every call (its values do not matter here): the stand-in itself
// costs the host nothing but the wait.
const prediction = new Float32Array(2 * images * unet.imageSize * unet.imageSize * unet.inChannels).map((_, i) => Math.sin(i) / 2);
const net = {
  predict: () => new Promise((resolve) => setTimeout(() => resolve(prediction), forwardMs)),
};

async function run(workers) {
  const scheduler = ddpm.makeScheduler(samplerName, { num_train_timesteps: 400 }, { steps, eta: 0 });
  const sampler = new ddpm.DiffusionSampler(net, scheduler, unet);
  const labels = Array.from({ length: images }, (_, i) => i % 10);
  const noiseIds = Array.from({ length: images }, (_, i) => i);
  const pool = workers > 0 ? new ddpm.StepWorkerPool(workers) : null;
  const times = [];
  try {
    const x = await sampler.sample({ labels, noiseIds, seed: 0, w: 2, imageSteps: pool?.imageSteps, onStep: () => void times.push(process.hrtime.bigint()) });
    return { ms: Number(times[times.length - 1] - times[0]) / 1e6 / (times.length - 1), x };
  } finally {
    await pool?.close();
  }
}

(async () => {
  console.log(
    `ddpm package's sampler, ${images} images, guidance (batch ${2 * images}), ${steps} ${samplerName === 'ddim' ? 'DDIM (eta 0)' : 'DDPM'} steps, a stand-in forward of ${forwardMs} ms that leaves the CPU idle`,
  );
  const rows = new Map();
  let reference = null;
  for (let r = 0; r < repeats; r++) {
    for (const workers of [0, ...workerCounts]) {
      const { ms, x } = await run(workers);
      if (workers === 0) reference = x;
      else if (Buffer.compare(Buffer.from(x.buffer), Buffer.from(reference.buffer)) !== 0)
        throw new Error(`sampler-host: ${workers} step workers gave other images than the main thread`);
      rows.set(workers, [...(rows.get(workers) ?? []), ms]);
    }
  }
  console.log('| per-image work on | ms per step (runs) | host ms beyond the forward |');
  console.log('|---|---|---|');
  for (const [workers, ms] of rows) {
    const best = Math.min(...ms);
    console.log(
      `| ${workers === 0 ? 'the main thread' : `${workers} worker thread${workers > 1 ? 's' : ''}`} | ${ms.map((m) => m.toFixed(0)).join(' / ')} | ${(best - forwardMs).toFixed(0)} |`,
    );
  }
  console.log("(images identical to the main thread's in every run)");
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
