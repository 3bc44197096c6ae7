#!/usr/bin/env node
/**
 * The DCGAN step over many steps against PyTorch: from the same weights, on the same real
 * batches and noise, the project's trainStep (the engine the machine picks, as training does)
 * and PyTorch's tutorial step in float64 and in float32 (torch/gan_trajectory.py). A GAN at the
 * report's learning rates amplifies rounding, so no two float32 runs stay together for long;
 * the question is whether the project drifts from float64 no faster than PyTorch's own float32
 * does. Prints, per side, the first step whose D or G loss differs from float64's by more than
 * 1e-3, 1e-2 and 1e-1 (relative), and writes every step's losses to --out as JSON.
 *
 * Usage: node tools/parity/gan-trajectory.js [--data runs/parity/data/gan/train-x.f32] [--steps 100]
 *                                            [--width 32] [--batch 64] [--seed 0] [--out FILE] [--threads 2]
 *   --data: the training images `parity.js gan` exports (float32 NHWC 64x64x3 in [-1, 1]);
 *   step s trains on images [s * batch, (s + 1) * batch) of it, wrapping around.
 * Needs a built workspace (`pnpm build`) and a python3 with torch.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { REPO, arg, nonNegative, positive, runTorchMirror, toolsRequire } = require('./runner');

const THRESHOLDS = [1e-3, 1e-2, 1e-1];

/** The first step (1-based) at which either loss of `side` differs from `reference`'s by more than `tol` relative; null if none. */
function firstDeparture(side, reference, tol) {
  for (let i = 0; i < reference.length; i++) {
    for (const key of ['lossD', 'lossG']) {
      const a = side[i][key];
      const b = reference[i][key];
      if (Math.abs(a - b) > tol * Math.max(Math.abs(b), 1e-12)) return i + 1;
    }
  }
  return null;
}

/** A model's weights in layer order, as the gan package's torch_reference_step.py `load` reads them. */
const weightDump = (model) => model.layers.flatMap((l) => l.weights).map((w) => ({ name: w.originalName, shape: w.shape, values: Array.from(w.read().dataSync()) }));

/** Reads `count` images of `per` floats from the export, starting at image `from` (wrapping). */
function readImages(file, from, count, per, total) {
  const out = new Float32Array(count * per);
  const fd = fs.openSync(file, 'r');
  try {
    for (let k = 0; k < count; k++) {
      const image = (from + k) % total;
      const bytes = Buffer.from(out.buffer, k * per * 4, per * 4);
      const read = fs.readSync(fd, bytes, 0, per * 4, image * per * 4);
      if (read !== per * 4) throw new Error(`${file}: image ${image} is cut short (${read} of ${per * 4} bytes)`);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

async function main() {
  const data = path.resolve(arg('data', 'runs/parity/data/gan/train-x.f32'));
  const steps = positive('steps', arg('steps', '100'));
  const width = positive('width', arg('width', '32'));
  const batch = positive('batch', arg('batch', '64'));
  const seed = nonNegative('seed', arg('seed', '0'));
  const threads = positive('threads', arg('threads', '2'));
  if (!fs.existsSync(data)) throw new Error(`--data: ${data} does not exist (node tools/parity/parity.js gan --side none --out DIR writes DIR/data/gan/train-x.f32)`);
  const per = 64 * 64 * 3;
  const size = fs.statSync(data).size;
  if (size === 0 || size % (per * 4) !== 0) throw new Error(`${data}: ${size} bytes is not a whole number of 64x64x3 float32 images`);
  const total = size / (per * 4);
  if (total < batch) throw new Error(`${data}: ${total} images are fewer than one batch of ${batch}`);

  const core = toolsRequire('@dlcv/core');
  const gan = toolsRequire('@dlcv/gan');
  // the tfjs the packages use (tools has no tfjs of its own)
  const tf = require(require.resolve('@tensorflow/tfjs', { paths: [path.join(REPO, 'packages', 'gan')] }));
  const engine = await core.setupEngine({});
  const preset = gan.TRAIN_PRESETS.report;
  const config = { nz: 100, ngf: width, ndf: width, channels: 3 };
  const rng = new core.Rng(seed);
  const models = { g: gan.createGenerator(config, rng.fork(1)), d: gan.createDiscriminator(config, rng.fork(2)) };
  const pair = { ...models, ...gan.createOptimizers(preset) };
  const before = { g: weightDump(models.g), d: weightDump(models.d) };
  const noise = new core.Rng(seed, 1);
  const zs = [];
  const results = [];
  for (let s = 0; s < steps; s++) {
    const real = tf.tensor4d(readImages(data, s * batch, batch, per, total), [batch, 64, 64, 3]);
    const z = gan.noiseBatch(noise, batch, config.nz);
    zs.push(Array.from(z.dataSync()));
    results.push(await gan.trainStep(pair, real, z));
    tf.dispose([real, z]);
  }
  const exchange = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gan-trajectory-')), 'ours.json');
  fs.writeFileSync(exchange, JSON.stringify({ gan: config, batch, lrD: preset.lrD, lrG: preset.lrG, beta1: preset.beta1, data, images: total, before, zs, results }));
  let torch;
  try {
    torch = runTorchMirror('gan_trajectory.py', [exchange, '--threads', threads]);
  } finally {
    fs.rmSync(path.dirname(exchange), { recursive: true, force: true });
  }
  const reference = torch.float64;
  const lines = [`engine: ${engine.engine} (${engine.detail}); ${steps} steps, width ${width}, batch ${batch}, seed ${seed}; torch ${torch.torch}`];
  lines.push(`first step with a loss off float64's by more than ${THRESHOLDS.join(', ')} (relative):`);
  for (const [label, side] of [
    ['project (float32)', results],
    ['PyTorch float32', torch.float32],
  ]) {
    lines.push(`  ${label}: ${THRESHOLDS.map((t) => firstDeparture(side, reference, t) ?? `none in ${steps}`).join(', ')}`);
  }
  console.log(lines.join('\n'));
  const out = arg('out');
  if (out) {
    await core.writeFileAtomic(
      out,
      JSON.stringify({ steps, width, batch, seed, torch: torch.torch, ours: results, torchFloat32: torch.float32, torchFloat64: reference }, null, 1) + '\n',
    );
    console.log(`wrote ${out}`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`gan-trajectory: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { firstDeparture, readImages, weightDump };
