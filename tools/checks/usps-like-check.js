#!/usr/bin/env node
/**
 * Outside check of the `usps-like` stand-in: does a network trained on clean MNIST score on it
 * what MNIST -> USPS source-only models score on real USPS? Published source-only results with
 * USPS at 28x28 are about 75-80% (Tzeng et al. 2017, "Adversarial Discriminative Domain
 * Adaptation", table 2, MNIST -> USPS "Source only": 75.2%).
 *
 * Writes the 8,000 MNIST digits that `usps-like` holds out of (the `mnistm` share of core's
 * split, so no test digit is ever trained on) as plain 28x28 grey PNGs under
 * `<out>/digits/mnistm/`, links `<out>/digits/usps` to the built `usps-like` set, then trains
 * the DANN package's source-only network on them (`dlcv-dann train --mode source --scenario
 * usps --data <out>/digits`) and prints its accuracy on usps-like's val.csv.
 * Needs a built workspace (`pnpm build`).
 *
 * Usage: node tools/checks/usps-like-check.js [--cache-dir DIR] [--out DIR] [--epochs N] [--seed S]
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const toolsRequire = createRequire(path.join(__dirname, '..', 'package.json'));
const core = toolsRequire('@dlcv/core');
const dann = toolsRequire('@dlcv/dann');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** The held-out-of digits as a homework-layout folder; val.csv: every fifth digit. */
async function writeCleanMnist(dir) {
  const digits = core.loadMnist();
  const order = core.mnistSplit(core.DEFAULT_EMBEDDED_SEED).mnistm;
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const train = ['image_name,label'];
  const val = ['image_name,label'];
  for (let k = 0; k < order.length; k++) {
    const d = digits[order[k]];
    const name = `${String(k).padStart(5, '0')}.png`;
    await core.writePng(path.join(dir, 'data', name), { width: 28, height: 28, channels: 1, data: d.pixels });
    (k % 5 === 4 ? val : train).push(`${name},${d.label}`);
  }
  fs.writeFileSync(path.join(dir, 'train.csv'), train.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'val.csv'), val.join('\n') + '\n');
  return order.length;
}

async function main() {
  const cacheDir = arg('cache-dir', undefined);
  const out = path.resolve(arg('out', path.join('runs', 'usps-like-check')));
  const epochs = arg('epochs', '10');
  const seed = arg('seed', '0');
  const usps = await core.ensureEmbeddedDigits('usps-like', { cacheDir, log: (m) => console.log(m) });
  const root = path.join(out, 'digits');
  fs.rmSync(root, { recursive: true, force: true });
  const n = await writeCleanMnist(path.join(root, 'mnistm'));
  fs.symlinkSync(usps, path.join(root, 'usps'));
  console.log(`wrote ${n} clean MNIST digits (disjoint from usps-like) to ${path.join(root, 'mnistm')}`);
  const cli = path.join(__dirname, '..', '..', 'packages', 'dann', 'bin', 'dlcv-dann.js');
  const runs = path.join(out, 'runs');
  const args = [cli, 'train', '--scenario', 'usps', '--mode', 'source', '--data', root, '--out', runs, '--epochs', epochs, '--seed', seed];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const result = JSON.parse(fs.readFileSync(path.join(runs, 'mnistm-only', 'result.json'), 'utf8'));
  // The val.csv score is on 400 digits; the chosen model on all 2,000 (none trained on) is steadier.
  await core.setupEngine({});
  const { net } = await dann.loadDannModel(path.join(runs, 'mnistm-only'));
  let correct = 0;
  let total = 0;
  for (const split of ['train', 'val']) {
    const ds = await core.openDigits(usps, split, { channels: 1, size: 28 });
    correct += Math.round((await dann.accuracy(net, ds)) * ds.length);
    total += ds.length;
  }
  const pct = (v) => `${(v * 100).toFixed(2)}%`;
  console.log(
    `clean MNIST -> usps-like, source only: ${pct(result.accuracy.usps)} on val.csv, ${pct(correct / total)} on all ${total} (clean MNIST val: ${pct(result.accuracy.mnistm)}); published MNIST -> USPS source only: 75.2% (ADDA)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
