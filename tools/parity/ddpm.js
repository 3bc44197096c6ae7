/**
 * Problem 2's parity check: the ddpm package's cpu preset (`dlcv-ddpm train`, then `sample` with
 * the preset's sampler) against torch/ddpm_parity.py (the same U-Net, training and DDIM sampler
 * in PyTorch), on the embedded MNIST-M; both sides' 1000 digits graded by eval's two digit
 * classifiers.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { percent } = require('./stats');
const { REPO, run, runJson, toolsRequire, torchEnv, torchPython } = require('./runner');

const metrics = [
  { key: 'accuracy', label: 'accuracy, homework grader', format: percent },
  { key: 'strictAccuracy', label: 'accuracy, strict grader', format: percent },
];

/** The cpu preset as packages/ddpm/src/config.ts has it (the project's side reads it from there). */
const recipe = () => ({ preset: 'cpu', nFeat: 64, steps: 4000, batch: 16, lr: 5e-4, emaDecay: 0.999, sampler: 'ddim', samplingSteps: 10, eta: 1, w: 4 });

const dataDir = (ctx) => path.join(ctx.out, 'data', 'ddpm');

/** The embedded MNIST-M as raw uint8 arrays (N x 28 x 28 x 3, labels), as scripts/export-raw-digits.js writes them. */
async function prepare(ctx) {
  const dir = dataDir(ctx);
  if (fs.existsSync(path.join(dir, 'val_y.u8'))) return;
  const core = toolsRequire('@dlcv/core');
  fs.mkdirSync(dir, { recursive: true });
  const digits = await core.ensureEmbeddedDigits('mnistm', {});
  for (const split of ['train', 'val']) {
    const ds = await core.openDigits(digits, split);
    fs.writeFileSync(path.join(dir, `${split}_x.u8`), await ds.getPixelsBatch(Array.from({ length: ds.length }, (_, i) => i)));
    fs.writeFileSync(path.join(dir, `${split}_y.u8`), Uint8Array.from(ds.labels));
  }
}

/** Checks that the preset the project trains is the recipe the PyTorch side mirrors. */
function checkPreset() {
  const { presetConfig } = toolsRequire('@dlcv/ddpm');
  const p = presetConfig('cpu');
  const r = recipe();
  const seen = {
    nFeat: p.unet.nFeat,
    steps: p.steps,
    batch: p.batchSize,
    lr: p.lr,
    emaDecay: p.emaDecay,
    sampler: p.sampling.sampler,
    samplingSteps: p.sampling.steps,
    eta: p.sampling.eta,
    w: p.sampling.w,
  };
  const differs = Object.entries(seen).filter(([k, v]) => r[k] !== v);
  if (differs.length > 0)
    throw new Error(`the ddpm cpu preset changed (${differs.map(([k, v]) => `${k} ${v}, mirror ${r[k]}`).join('; ')}): update tools/parity/ddpm.js and torch/ddpm_parity.py`);
}

async function runSeed(ctx, side, seed) {
  checkPreset();
  const r = recipe();
  const dir = path.join(ctx.out, 'ddpm', `${side}-seed${seed}-run`);
  const images = path.join(dir, 'images');
  let detail;
  if (side === 'ours') {
    const bin = path.join(REPO, 'packages/ddpm/bin/dlcv-ddpm.js');
    // --resume: an interrupted seed continues from its last checkpoint (a fresh folder starts fresh)
    run(process.execPath, [bin, 'train', '--preset', 'cpu', '--seed', String(seed), '--out', dir, '--save-every', '1000', '--resume']);
    run(process.execPath, [bin, 'sample', '--model', path.join(dir, 'model'), '--out', images, '--seed', String(seed)]);
  } else {
    const script = path.join(__dirname, 'torch', 'ddpm_parity.py');
    const args = ['-B', script, '--data', dataDir(ctx), '--out', images, '--seed', seed, '--n-feat', r.nFeat, '--steps', r.steps, '--batch', r.batch, '--lr', r.lr];
    args.push('--ema-decay', r.emaDecay, '--ddim-steps', r.samplingSteps, '--eta', r.eta, '--w', r.w, '--threads', ctx.threads);
    detail = runJson(torchPython(), args.map(String), { env: torchEnv() });
  }
  const graded = await toolsRequire('@dlcv/eval').gradeDigits(images);
  return { metrics: { accuracy: graded.accuracy, strictAccuracy: graded.strict?.accuracy }, detail: { ...detail, images, perClass: graded.perClass.map((c) => c.accuracy) } };
}

module.exports = { name: 'ddpm', metrics, recipe, prepare, runSeed };
