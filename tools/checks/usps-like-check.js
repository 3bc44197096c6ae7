#!/usr/bin/env node
/**
 * Outside check of the `usps-like` stand-in: does a network trained on clean MNIST score on it
 * what MNIST -> USPS source-only models score on real USPS? The published reference: Tzeng et
 * al. 2017, "Adversarial Discriminative Domain Adaptation" (ADDA), table 2, MNIST -> USPS
 * "Source only" with USPS at 28x28: 75.2% +- 1.6 (a LeNet).
 *
 * Writes the 8,000 MNIST digits that `usps-like` holds out of (the `mnistm` share of core's
 * split, so no test digit is ever trained on) as plain 28x28 grey PNGs under
 * `<out>/digits/mnistm/`, links `<out>/digits/usps` to the built `usps-like` set, then trains two
 * networks on them and scores each on all 2,000 `usps-like` digits:
 *   - LeNet, at ADDA's widths (ADDA_LENET below), one run per seed of --lenet-seeds:
 *     `trainDigitClassifier` on the clean digits, then its ONNX export scored. Its mean and range
 *     over the seeds are what compares with ADDA's row.
 *   - the DANN package's source network (with BatchNorm: its statistics come from the source
 *     alone, which costs it more under this shift): `dlcv-dann train --mode source --scenario
 *     usps --data <out>/digits`, the network of dann's table.
 * Needs a built workspace (`pnpm build`).
 *
 * Usage: node tools/checks/usps-like-check.js [--cache-dir DIR] [--out DIR] [--epochs N] [--seed S] [--lenet-seeds 0,1,2]
 * (--seed: the dann network's seed; --epochs: both networks')
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const toolsRequire = createRequire(path.join(__dirname, '..', 'package.json'));
const core = toolsRequire('@dlcv/core');
const dann = toolsRequire('@dlcv/dann');
const evalPkg = toolsRequire('@dlcv/eval');

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

/**
 * ADDA's source network is Caffe's LeNet: conv 20 k5, pool, conv 50 k5, pool, fc 500, fc 10, no
 * BatchNorm. eval's homework classifier is the same family; at ADDA's widths it differs only by
 * one more hidden layer (fc2, here also 500 wide).
 */
const ADDA_LENET = { size: 28, conv1: 20, conv2: 50, fc1: 500, fc2: 500, classes: 10 };

/** ADDA's source-only row, MNIST -> USPS: mean and standard deviation (table 2). */
const PUBLISHED = { mean: 0.752, sd: 0.016 };

/** Accuracy of an exported digit classifier on every image of a digits folder (train and val). */
async function scoreOnnx(onnxFile, digitsDir) {
  let correct = 0;
  let total = 0;
  for (const split of ['train', 'val']) {
    const r = await evalPkg.datasetAccuracy(onnxFile, await core.openDigits(digitsDir, split, { channels: 3, size: 28 }));
    correct += r.correct;
    total += r.total;
  }
  return { accuracy: correct / total, total };
}

async function main() {
  const cacheDir = arg('cache-dir', undefined);
  const out = path.resolve(arg('out', path.join('runs', 'usps-like-check')));
  const epochs = arg('epochs', '10');
  const seed = arg('seed', '0');
  const seedsArg = arg('lenet-seeds', '0,1,2');
  const seeds = seedsArg.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--lenet-seeds: expected comma-separated non-negative integers, got "${seedsArg}"`);
  const usps = await core.ensureEmbeddedDigits('usps-like', { cacheDir, log: (m) => console.log(m) });
  const root = path.join(out, 'digits');
  fs.rmSync(root, { recursive: true, force: true });
  const n = await writeCleanMnist(path.join(root, 'mnistm'));
  fs.symlinkSync(usps, path.join(root, 'usps'));
  console.log(`wrote ${n} clean MNIST digits (disjoint from usps-like) to ${path.join(root, 'mnistm')}`);
  const pct = (v) => `${(v * 100).toFixed(2)}%`;

  // LeNets (no BatchNorm), one per seed, each trained and scored through its ONNX export.
  await core.setupEngine({});
  const lenets = [];
  for (const s of seeds) {
    const runDir = path.join(out, `lenet-seed${s}`);
    fs.rmSync(runDir, { recursive: true, force: true });
    const trained = await evalPkg.trainDigitClassifier({
      data: path.join(root, 'mnistm'),
      runDir,
      config: ADDA_LENET,
      epochs: Number(epochs),
      batchSize: 64,
      lr: 1e-3,
      seed: s,
      quietProgress: true,
      log: (m) => console.log(`lenet seed ${s}: ${m}`),
    });
    const scored = await scoreOnnx(trained.onnxFile, usps);
    lenets.push({ seed: s, clean: trained.valAccuracy, usps: scored.accuracy, total: scored.total });
  }

  // dann's source network (BatchNorm).
  const cli = path.join(__dirname, '..', '..', 'packages', 'dann', 'bin', 'dlcv-dann.js');
  const runs = path.join(out, 'runs');
  const args = [cli, 'train', '--scenario', 'usps', '--mode', 'source', '--data', root, '--out', runs, '--epochs', epochs, '--seed', seed];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const result = JSON.parse(fs.readFileSync(path.join(runs, 'mnistm-only', 'result.json'), 'utf8'));
  // The val.csv score is on 400 digits; the chosen model on all 2,000 (none trained on) is steadier.
  const { net } = await dann.loadDannModel(path.join(runs, 'mnistm-only'));
  let correct = 0;
  let total = 0;
  for (const split of ['train', 'val']) {
    const ds = await core.openDigits(usps, split, { channels: 1, size: 28 });
    correct += Math.round((await dann.accuracy(net, ds)) * ds.length);
    total += ds.length;
  }
  console.log(`published MNIST -> USPS source only (LeNet, USPS at 28x28): ${pct(PUBLISHED.mean)} +- ${(100 * PUBLISHED.sd).toFixed(1)} (ADDA, Tzeng et al. 2017, table 2)`);
  for (const l of lenets) console.log(`clean MNIST -> usps-like, LeNet seed ${l.seed}: ${pct(l.usps)} on all ${l.total} usps-like digits (clean MNIST val: ${pct(l.clean)})`);
  const u = lenets.map((l) => l.usps);
  const mean = u.reduce((a, b) => a + b, 0) / u.length;
  const within = Math.abs(mean - PUBLISHED.mean) <= PUBLISHED.sd;
  console.log(
    `clean MNIST -> usps-like, LeNet over seeds ${seeds.join(',')}: mean ${pct(mean)}, range ${pct(Math.min(...u))} - ${pct(Math.max(...u))}: ${within ? 'within' : 'OUTSIDE'} the published mean +- one standard deviation`,
  );
  console.log(
    `clean MNIST -> usps-like, dann's source network (BatchNorm): ${pct(result.accuracy.usps)} on val.csv, ${pct(correct / total)} on all ${total} (clean MNIST val: ${pct(result.accuracy.mnistm)})`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
