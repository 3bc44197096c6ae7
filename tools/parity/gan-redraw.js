#!/usr/bin/env node
/**
 * The project's sampler drawn again: a project parity seed's trained generator sampled with fresh
 * precise BatchNorm statistics and fresh noise, as gan-cross-sample.js's `--torch-seed` draws
 * PyTorch's sampler again. Draw K is `generate --calibration-seed K --seed K`: the statistics
 * from calibration seed K (a run stores seed 0's), the noise of seed K (the run's own images used
 * its training seed). The spread of these draws around the stored images' metrics says how much
 * of a gap between the two samplers one draw of the statistics and noise can make.
 *
 * Usage: node tools/parity/gan-redraw.js --run DIR --draws 5,6,7,8 [--parity-out runs/parity]
 *   --run: a project seed's run folder of `parity.js gan` (<out>/gan/ours-seed<N>-run)
 *   --draws: the draws' seeds; one equal to the run's training seed would reuse its noise, and is refused
 *   --parity-out: that check's --out (its exported val digits and training images are measured against)
 * Writes <run>/redraw/draw-<K>/ (the images) and <run>/redraw.json. Needs a built workspace.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { arg, run, seedList, writeJson } = require('./runner');
const { GAN_BIN, imageMetrics, openSeedRun, pngFiles } = require('./gan');

/** `--draws`: distinct non-negative integers, none equal to the run's training seed. */
function drawList(text, trainingSeed) {
  if (text === undefined) throw new Error('--draws: the draws to sample, as seeds separated by commas (e.g. 5,6,7,8)');
  const seeds = seedList('draws', text);
  if (new Set(seeds).size !== seeds.length) throw new Error(`--draws: a seed is listed twice in "${text}"`);
  if (seeds.includes(trainingSeed)) throw new Error(`--draws: ${trainingSeed} is the run's own seed, whose noise its stored images already use`);
  return seeds;
}

async function main() {
  const runArg = arg('run');
  if (!runArg) throw new Error('--run: the project seed run folder to sample (<parity out>/gan/ours-seed<N>-run)');
  const runDir = path.resolve(runArg);
  const ctx = { out: path.resolve(arg('parity-out', 'runs/parity')) };
  const { model, images: stored, seed } = openSeedRun(ctx, runDir);
  const draws = drawList(arg('draws'), seed);
  const count = pngFiles(stored).length;

  const measured = { stored: (await imageMetrics(ctx, stored)).metrics, draws: {} };
  for (const k of draws) {
    const out = path.join(runDir, 'redraw', `draw-${k}`);
    fs.rmSync(out, { recursive: true, force: true });
    run(process.execPath, [GAN_BIN, 'generate', '--model', model, '--out', out, '--count', String(count), '--seed', String(k), '--calibration-seed', String(k)]);
    measured.draws[k] = (await imageMetrics(ctx, out)).metrics;
  }

  console.log(`${runDir} (seed ${seed}): the stored images | draws ${draws.join(', ')} (calibration and noise seed each)`);
  for (const key of Object.keys(measured.stored)) {
    const values = draws.map((k) => measured.draws[k][key]);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    console.log(`  ${key}: ${measured.stored[key].toFixed(3)} | ${values.map((v) => v.toFixed(3)).join(', ')} (mean ${mean.toFixed(3)})`);
  }
  await writeJson(path.join(runDir, 'redraw.json'), { seed, count, ...measured });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`gan-redraw: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { drawList };
