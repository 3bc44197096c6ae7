#!/usr/bin/env node
/**
 * Sampling checked apart from training: a project parity seed's trained generator (`<run>/model`)
 * sampled by PyTorch (torch/gan_cross_sample.py) twice:
 *   - with the project's BatchNorm statistics and noise: compared pixel by pixel with the images
 *     the project sampled (the same forward pass gives the same bytes, give or take one level);
 *   - as the mirror samples its own generator (its own precise statistics and noise): measured
 *     with tools/parity/gan.js's metrics beside the project's images.
 * A gap in the second comparison with none in the first lies in the statistics or the draw, not
 * in the forward pass; a gap between the samplers' outcomes on the same weights would put a
 * difference between the parity sides in sampling rather than in training.
 *
 * Usage: node tools/parity/gan-cross-sample.js --run DIR [--parity-out runs/parity] [--torch-seed 0] [--threads 2]
 *   --run: a project seed's run folder of `parity.js gan` (<out>/gan/ours-seed<N>-run: model/, images/,
 *   config.json), whose images came from `generate --seed <its training seed>`
 *   --parity-out: that check's --out (its exported val digits and training images are measured against)
 * Writes <run>/torch-sampled/{same-noise,own}/ and <run>/cross-sample.json. Needs a built workspace
 * and a python3 with torch.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { arg, nonNegative, positive, runTorchMirror, toolsRequire } = require('./runner');
const { weightDump } = require('./gan-trajectory');
const { imageMetrics, openSeedRun, pngFiles } = require('./gan');

/** Largest byte difference between same-named images of two folders, and the share of bytes that differ. */
async function compareFolders(a, b) {
  const core = toolsRequire('@dlcv/core');
  const files = pngFiles(a);
  let maxDiff = 0;
  let differing = 0;
  let bytes = 0;
  for (const file of files) {
    const other = path.join(b, path.basename(file));
    const [x, y] = await Promise.all([core.readImage(file, { channels: 3 }), core.readImage(other, { channels: 3 })]);
    if (x.data.length !== y.data.length) throw new Error(`${other}: ${y.width}x${y.height}, ${file} is ${x.width}x${x.height}`);
    for (let k = 0; k < x.data.length; k++) {
      const d = Math.abs(x.data[k] - y.data[k]);
      if (d > maxDiff) maxDiff = d;
      if (d > 0) differing++;
    }
    bytes += x.data.length;
  }
  return { images: files.length, maxDiff, differingShare: differing / bytes };
}

async function main() {
  const run = arg('run');
  if (!run) throw new Error('--run: the project seed run folder to sample (<parity out>/gan/ours-seed<N>-run)');
  const runDir = path.resolve(run);
  const ctx = { out: path.resolve(arg('parity-out', 'runs/parity')) };
  const torchSeed = nonNegative('torch-seed', arg('torch-seed', '0'));
  const threads = positive('threads', arg('threads', '2'));
  const { model, images: ours, seed } = openSeedRun(ctx, runDir);

  const core = toolsRequire('@dlcv/core');
  const gan = toolsRequire('@dlcv/gan');
  await core.setupEngine({});
  const loaded = await gan.loadGeneratorFolder(model);
  if (!loaded.preciseStats) throw new Error(`${model}: no precise statistics stored with the generator`);
  const count = pngFiles(ours).length;
  // generate's noise for this seed (image i gets normals [i * nz, (i + 1) * nz) of its stream)
  const noise = Array.from(new core.Rng(seed, gan.STREAMS.generate).normalArray(count * loaded.gan.nz));
  const preciseStats = loaded.preciseStats.map((t) => Array.from(t.dataSync()));
  const exchange = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gan-cross-sample-')), 'g.json');
  fs.writeFileSync(exchange, JSON.stringify({ gan: loaded.gan, g: weightDump(loaded.g), preciseStats, noise }));
  const out = path.join(runDir, 'torch-sampled');
  fs.rmSync(out, { recursive: true, force: true });
  let torch;
  try {
    torch = runTorchMirror('gan_cross_sample.py', [exchange, '--out', out, '--seed', torchSeed, '--threads', threads]);
  } finally {
    fs.rmSync(path.dirname(exchange), { recursive: true, force: true });
  }

  const sameNoise = await compareFolders(ours, torch.sameNoise);
  const measured = { project: (await imageMetrics(ctx, ours)).metrics, torchOwn: (await imageMetrics(ctx, torch.own)).metrics };
  console.log(`${runDir} (seed ${seed}, step ${loaded.step}):`);
  console.log(
    `  the project's statistics and noise through PyTorch: ${sameNoise.images} images, largest byte difference ${sameNoise.maxDiff}, ${(sameNoise.differingShare * 100).toFixed(4)}% of bytes differ`,
  );
  console.log(`  metrics, the project's sampler | PyTorch's (its own statistics and noise, seed ${torchSeed}):`);
  for (const k of Object.keys(measured.project)) console.log(`    ${k}: ${measured.project[k].toFixed(3)} | ${measured.torchOwn[k].toFixed(3)}`);
  console.log(
    `  PyTorch's statistics against the project's, per BatchNorm (median mean shift in sd, variance ratio): ${torch.layers.map((l) => `${l.meanShiftSd.toFixed(3)}, ${l.varRatio.toFixed(3)}`).join('; ')}`,
  );
  await core.writeFileAtomic(
    path.join(runDir, 'cross-sample.json'),
    JSON.stringify({ seed, step: loaded.step, torchSeed, sameNoise, statistics: torch.layers, ...measured }, null, 2) + '\n',
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`gan-cross-sample: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { compareFolders };
