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
const { REPO, run, runTorchMirror, toolsRequire } = require('./runner');

const metrics = [
  { key: 'accuracy', label: 'accuracy, homework grader', format: percent },
  { key: 'strictAccuracy', label: 'accuracy, strict grader', format: percent },
];

/**
 * Timesteps and class-drop probability torch/ddpm_parity.py has built in (through
 * recipe_check.py's T and train_ddpm); the rest of the preset reaches it as flags.
 */
const MIRROR_BUILT_IN = { timesteps: 400, pUncond: 0.1 };

/** The ddpm package's cpu preset, read from the package, in the terms the PyTorch mirror takes. */
function recipe() {
  const p = toolsRequire('@dlcv/ddpm').presetConfig('cpu');
  const r = {
    preset: 'cpu',
    nFeat: p.unet.nFeat,
    steps: p.steps,
    batch: p.batchSize,
    lr: p.lr,
    emaDecay: p.emaDecay,
    timesteps: p.scheduler.num_train_timesteps,
    pUncond: p.pUncond,
    sampler: p.sampling.sampler,
    samplingSteps: p.sampling.steps,
    eta: p.sampling.eta,
    w: p.sampling.w,
  };
  const differs = Object.entries(MIRROR_BUILT_IN).filter(([k, v]) => r[k] !== v);
  if (differs.length > 0 || r.sampler !== 'ddim')
    throw new Error(
      `the ddpm cpu preset (sampler ${r.sampler}${differs.map(([k]) => `, ${k} ${r[k]}`).join('')}) is not what torch/ddpm_parity.py mirrors (ddim, ${JSON.stringify(MIRROR_BUILT_IN)}): update the mirror`,
    );
  return r;
}

const dataDir = (ctx) => path.join(ctx.out, 'data', 'ddpm');

/** The embedded MNIST-M as raw uint8 arrays, written by the ddpm package's scripts/export-raw-digits.js. */
async function prepare(ctx) {
  const dir = dataDir(ctx);
  if (fs.existsSync(path.join(dir, 'val_y.u8'))) return;
  const digits = await toolsRequire('@dlcv/core').ensureEmbeddedDigits('mnistm', {});
  run(process.execPath, [path.join(REPO, 'packages/ddpm/scripts/export-raw-digits.js'), digits, dir]);
}

async function runSeed(ctx, side, seed) {
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
    const args = ['--data', dataDir(ctx), '--out', images, '--seed', seed, '--n-feat', r.nFeat, '--steps', r.steps, '--batch', r.batch, '--lr', r.lr];
    args.push('--ema-decay', r.emaDecay, '--ddim-steps', r.samplingSteps, '--eta', r.eta, '--w', r.w, '--threads', ctx.threads);
    detail = runTorchMirror('ddpm_parity.py', args);
  }
  const graded = await toolsRequire('@dlcv/eval').gradeDigits(images);
  return { metrics: { accuracy: graded.accuracy, strictAccuracy: graded.strict?.accuracy }, detail: { ...detail, images, perClass: graded.perClass.map((c) => c.accuracy) } };
}

module.exports = { name: 'ddpm', metrics, recipe, prepare, runSeed };
