/**
 * Problem 1's parity check on the embedded MNIST-M digits resized to 64x64: `dlcv-gan train`
 * then `generate` (the project) against torch/gan_parity.py (the same DCGAN and loop in
 * PyTorch). Both sides' 1000 images are measured by the same code here:
 *   - FD and KID on the homework digit classifier's features against the 2,000 val.csv digits;
 *   - the class histogram of the images as the strict digit grader reads them (mode coverage):
 *     the largest class's share, the classes holding at least 2% of the images, and the
 *     histogram's effective number of classes, exp(entropy);
 *   - the collapse detectors: steps with D collapse as a share of all, mode-collapse episodes,
 *     and the last epoch's diversity ratio (fake over real mean pairwise distance);
 *   - the final samples' diversity: the detector's measure (mean pairwise pixel distance) over
 *     the 1000 images as saved, over the same measure of the first 1000 training images.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { REPO, run, runTorchMirror, toolsRequire, writeJson } = require('./runner');
const { readImages } = require('./gan-trajectory');

const fixed = (digits) => (v) => v.toFixed(digits);
const metrics = [
  { key: 'fd', label: 'FD, digit-classifier features, vs 2,000 val digits', format: fixed(1) },
  { key: 'kid', label: 'KID, same features', format: fixed(1) },
  { key: 'maxClassShare', label: 'largest class share (strict grader)', format: fixed(3) },
  { key: 'classesAbove2pct', label: 'classes with >= 2% of the images', format: fixed(1) },
  { key: 'effectiveClasses', label: 'effective classes, exp(entropy)', format: fixed(2) },
  { key: 'dCollapseShare', label: 'share of steps in D collapse (detector)', format: fixed(3) },
  { key: 'modeCollapseStarts', label: 'mode-collapse episodes (detector)', format: fixed(1) },
  { key: 'lastEpochDiversity', label: 'last epoch diversity ratio, fake / real', format: fixed(3) },
  { key: 'sampleDiversity', label: '1000 samples diversity ratio, samples / training images', format: fixed(3) },
];

/** Images in the real side of the sample diversity ratio: the first of the exported training set. */
const DIVERSITY_REAL_IMAGES = 1000;

/** The PyTorch mirror's loss: BCE on D's logits as the package computes it, or the tutorial's BCELoss on D's sigmoid output. */
const MIRROR_LOSSES = ['logits', 'sigmoid'];
const GAN_BIN = path.join(REPO, 'packages/gan/bin/dlcv-gan.js');

/**
 * The gan README's digits recipe: the package's optimizer preset (default: the report's) at width
 * ngf = ndf (32), batch 64, 20 epochs, and the mirror's loss (default: on logits, as the package's).
 */
function recipe(ctx) {
  const name = ctx.preset ?? 'report';
  const preset = toolsRequire('@dlcv/gan').TRAIN_PRESETS[name];
  if (!preset) throw new Error(`--preset: the gan package has no preset "${name}"`);
  const mirrorLoss = ctx.mirrorLoss ?? 'logits';
  if (!MIRROR_LOSSES.includes(mirrorLoss)) throw new Error(`--mirror-loss: expected ${MIRROR_LOSSES.join(' or ')}, got "${mirrorLoss}"`);
  return { preset: name, width: ctx.width ?? 32, batch: 64, lrD: preset.lrD, lrG: preset.lrG, beta1: preset.beta1, epochs: ctx.epochs ?? 20, images: 1000, mirrorLoss };
}

const dataDir = (ctx) => path.join(ctx.out, 'data', 'gan');

/** The training images as the gan package feeds them (float32 NHWC in [-1, 1]), and the val digits as PNGs. */
async function prepare(ctx) {
  const dir = dataDir(ctx);
  const done = path.join(dir, 'manifest.json');
  if (fs.existsSync(done)) return;
  const core = toolsRequire('@dlcv/core');
  const gan = toolsRequire('@dlcv/gan');
  fs.mkdirSync(path.join(dir, 'val'), { recursive: true });
  const { dataset } = await gan.openTrainingData({ demoDigits: true, log: console.log });
  const out = fs.openSync(path.join(dir, 'train-x.f32'), 'w');
  for (let from = 0; from < dataset.length; from += 500) {
    const idx = Array.from({ length: Math.min(500, dataset.length - from) }, (_, i) => from + i);
    const { x } = await dataset.getBatch(idx, { range: [-1, 1] });
    fs.writeSync(out, Buffer.from((await x.data()).buffer));
    x.dispose();
  }
  fs.closeSync(out);
  const digits = await core.ensureEmbeddedDigits('mnistm', {});
  const val = await core.openDigits(digits, 'val', { channels: 3 });
  for (const f of val.files) fs.copyFileSync(f, path.join(dir, 'val', path.basename(f)));
  fs.writeFileSync(done, JSON.stringify({ train: dataset.length, val: val.length, digits }, null, 2) + '\n');
}

/** The detectors' numbers from a gan run's metrics.jsonl, as gan_parity.py reports them. */
function detectorSummary(file, perEpoch, total) {
  const lines = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  let dActive = false;
  let dSteps = 0;
  let modeStarts = 0;
  const events = new Map(lines.filter((l) => l.event === 'discriminator-collapse').map((l) => [l.step, l.started]));
  for (let step = 1; step <= total; step++) {
    if (events.has(step)) dActive = events.get(step);
    if (dActive) dSteps++;
  }
  for (const l of lines) if (l.event === 'mode-collapse' && l.started) modeStarts++;
  // the last epoch's diversity checks; the last check when that epoch had none; none in runs under 50 steps
  const checks = lines.filter((l) => l.diversity !== undefined).map((l) => ({ step: l.step, ratio: l.diversity }));
  const inLastEpoch = checks.filter((c) => c.step > total - perEpoch);
  const last = (inLastEpoch.length > 0 ? inLastEpoch : checks.slice(-1)).map((c) => c.ratio);
  return { dCollapseShare: dSteps / total, modeCollapseStarts: modeStarts, lastEpochDiversity: last.length > 0 ? last.reduce((a, b) => a + b, 0) / last.length : null };
}

/** Mean pairwise L2 distance (the collapse detector's measure) of 8-bit images, their pixels scaled to [-1, 1] as G outputs them. */
function pixelDistance(images) {
  const dim = images[0].data.length;
  const values = new Float32Array(images.length * dim);
  images.forEach((im, i) => {
    if (im.data.length !== dim) throw new Error(`pixelDistance: image ${i} has ${im.data.length} values, image 0 ${dim}`);
    for (let k = 0; k < dim; k++) values[i * dim + k] = im.data[k] / 127.5 - 1;
  });
  return toolsRequire('@dlcv/gan').meanPairwiseDistance(values, images.length, dim);
}

/** The same distance over the first 1000 exported training images (float32, in [-1, 1]), computed once per data folder. */
async function trainingPixelDistance(ctx) {
  const file = path.join(dataDir(ctx), 'training-distance.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).distance;
  const dim = 64 * 64 * 3;
  // readImages wraps around a short file; the count is checked against the file first
  const data = path.join(dataDir(ctx), 'train-x.f32');
  const total = fs.statSync(data).size / (dim * 4);
  if (total < DIVERSITY_REAL_IMAGES) throw new Error(`${data}: ${total} 64x64x3 images, the first ${DIVERSITY_REAL_IMAGES} are measured`);
  const values = readImages(data, 0, DIVERSITY_REAL_IMAGES, dim, total);
  const distance = toolsRequire('@dlcv/gan').meanPairwiseDistance(values, DIVERSITY_REAL_IMAGES, dim);
  await writeJson(file, { images: DIVERSITY_REAL_IMAGES, distance });
  return distance;
}

/** FD, KID, the class histogram and the pixel diversity of a folder of generated images. */
async function imageMetrics(ctx, folder) {
  const evalPkg = toolsRequire('@dlcv/eval');
  const core = toolsRequire('@dlcv/core');
  const fid = await evalPkg.gradeFid(folder, path.join(dataDir(ctx), 'val'), { features: 'digit-classifier', seed: 0 });
  const files = pngFiles(folder);
  const classifier = await evalPkg.loadDigitClassifier(evalPkg.defaultStrictDigitModel());
  const counts = new Array(10).fill(0);
  const images = [];
  try {
    for (let from = 0; from < files.length; from += 200) {
      const batch = await Promise.all(files.slice(from, from + 200).map((f) => core.readImage(f, { channels: 3 })));
      images.push(...batch);
      const small = await Promise.all(batch.map((im) => core.resizeImage(im, 28, 28)));
      for (const p of (await evalPkg.classifyDigits(classifier, small)).predictions) counts[p]++;
    }
  } finally {
    await classifier.model.dispose();
  }
  const shares = counts.map((c) => c / files.length);
  const entropy = -shares.filter((s) => s > 0).reduce((a, s) => a + s * Math.log(s), 0);
  return {
    metrics: {
      fd: fid.value,
      kid: fid.kid.mean,
      maxClassShare: Math.max(...shares),
      classesAbove2pct: shares.filter((s) => s >= 0.02).length,
      effectiveClasses: Math.exp(entropy),
      sampleDiversity: pixelDistance(images) / (await trainingPixelDistance(ctx)),
    },
    histogram: counts,
  };
}

/** A folder's PNG files by name, as paths. */
const pngFiles = (folder) =>
  fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => path.join(folder, f));

/** The first `count` images of a folder (by name), RGB; throws when it has fewer. */
async function firstImages(folder, count) {
  const files = pngFiles(folder).slice(0, count);
  if (files.length < count) throw new Error(`${folder}: ${files.length} images, ${count} wanted`);
  return Promise.all(files.map((f) => toolsRequire('@dlcv/core').readImage(f, { channels: 3 })));
}

/** The first 64 images of a folder (by name) as an 8x8 grid PNG, the same for both sides. */
async function writeFirstGrid(folder, file) {
  await toolsRequire('@dlcv/core').writeGrid(file, await firstImages(folder, 64), { cols: 8 });
}

/** Images of each seed in seeds.png. */
const SEED_ROW = 8;

/**
 * `<out>/gan/seeds.png`: a row per seed (the project's, then PyTorch's) of its first 8 images,
 * to compare the two sides by eye. A seed whose images folder is gone is left out and named.
 */
async function writeSeedRows(ctx, results) {
  const core = toolsRequire('@dlcv/core');
  const tiles = [];
  const rows = [];
  for (const side of ['ours', 'torch']) {
    for (const r of results[side]) {
      const folder = r.detail?.images;
      if (!folder || !fs.existsSync(folder)) {
        console.log(`parity gan: seeds.png leaves out ${side} seed ${r.seed} (its images folder ${folder ?? '(none recorded)'} is gone)`);
        continue;
      }
      tiles.push(...(await firstImages(folder, SEED_ROW)));
      rows.push(`${side} ${r.seed}`);
    }
  }
  if (rows.length === 0) return undefined;
  const file = path.join(ctx.out, 'gan', 'seeds.png');
  await core.writeGrid(file, tiles, { cols: SEED_ROW });
  console.log(`parity gan: ${file}: rows top to bottom: ${rows.join(', ')}`);
  return { file, rows };
}

async function runSeed(ctx, side, seed) {
  const r = recipe(ctx);
  const dir = path.join(ctx.out, 'gan', `${side}-seed${seed}-run`);
  const images = path.join(dir, 'images');
  const trainImages = JSON.parse(fs.readFileSync(path.join(dataDir(ctx), 'manifest.json'), 'utf8')).train;
  const perEpoch = Math.floor(trainImages / r.batch);
  let detectors;
  let mirrorDetail = {};
  if (side === 'ours') {
    const train = [
      'train',
      '--demo-digits',
      '--preset',
      r.preset,
      '--ngf',
      r.width,
      '--ndf',
      r.width,
      '--batch',
      r.batch,
      '--lr-d',
      r.lrD,
      '--lr-g',
      r.lrG,
      '--epochs',
      r.epochs,
      '--seed',
      seed,
      '--out',
      dir,
      '--save-every',
      500,
      // an interrupted seed continues from its last checkpoint (a fresh folder starts fresh)
      '--resume',
    ];
    run(process.execPath, [GAN_BIN, ...train.map(String)]);
    run(process.execPath, [GAN_BIN, 'generate', '--model', path.join(dir, 'model'), '--out', images, '--count', String(r.images), '--seed', String(seed)]);
    detectors = detectorSummary(path.join(dir, 'metrics.jsonl'), perEpoch, perEpoch * r.epochs);
  } else {
    const args = ['--data', path.join(dataDir(ctx), 'train-x.f32'), '--out', images, '--seed', seed, '--epochs', r.epochs, '--batch', r.batch, '--width', r.width];
    args.push('--lr-d', r.lrD, '--lr-g', r.lrG, '--beta1', r.beta1, '--count', r.images, '--threads', ctx.threads, '--loss', r.mirrorLoss);
    const t = runTorchMirror('gan_parity.py', args);
    detectors = { dCollapseShare: t.dCollapseShare, modeCollapseStarts: t.modeCollapseStarts, lastEpochDiversity: t.lastEpochDiversity };
    // every diversity check (step, ratio) and the samples in BCELoss's clamp, kept for a closer look
    mirrorDetail = { diversityChecks: t.diversityChecks, bceClamped: t.bceClamped };
  }
  const measured = await imageMetrics(ctx, images);
  const grid = path.join(dir, 'grid.png');
  await writeFirstGrid(images, grid);
  return { metrics: { ...measured.metrics, ...detectors }, detail: { histogram: measured.histogram, images, grid, ...mirrorDetail } };
}

/** The image metrics of a stored seed from its kept images folder; undefined when the folder is gone. */
async function remeasure(ctx, result) {
  const folder = result.detail?.images;
  if (!folder || !fs.existsSync(folder)) return undefined;
  return (await imageMetrics(ctx, folder)).metrics;
}

/**
 * A project seed's run folder of this check (<out>/gan/ours-seed<N>-run), for the tools that
 * sample its generator again: its model/ and images/ folders and its training seed; a clear error
 * naming what is missing (the exported val digits included).
 */
function openSeedRun(ctx, runDir) {
  const seedRun = { model: path.join(runDir, 'model'), images: path.join(runDir, 'images') };
  const configFile = path.join(runDir, 'config.json');
  for (const [what, p] of [
    ['the trained generator', seedRun.model],
    ['the images the project sampled', seedRun.images],
    ['the run config', configFile],
    ['the exported val digits', path.join(dataDir(ctx), 'val')],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${p}: ${what} is not there`);
  }
  return { ...seedRun, seed: JSON.parse(fs.readFileSync(configFile, 'utf8')).seed };
}

module.exports = {
  name: 'gan',
  GAN_BIN,
  openSeedRun,
  metrics,
  recipe,
  prepare,
  runSeed,
  remeasure,
  afterSeeds: writeSeedRows,
  writeSeedRows,
  detectorSummary,
  imageMetrics,
  pixelDistance,
  pngFiles,
  writeFirstGrid,
};
