#!/usr/bin/env node
/**
 * Results parity with PyTorch: trains one problem's recipe several times in the project and in
 * PyTorch (the networks of core's python/torch_reference.py, in a loop that mirrors the
 * package's trainer: torch/<problem>_parity.py), on the same embedded data, then tabulates the
 * outcome metrics of both sides with their seed spread and a verdict (stats.js).
 *
 * Usage: node tools/parity/parity.js <problem> [--seeds 0,1,2] [--torch-seeds LIST] [--side both|ours|torch|none]
 *                                    [--out runs/parity] [--cache-dir DIR] [--epochs N] [--width N] [--preset NAME] [--threads 2]
 *                                    [--mirror-loss logits|sigmoid] [--cell ROW.SCENARIO]
 *   problem: dann (train-all's table), ddpm (the cpu preset), gan (a DCGAN on the 64x64 digits)
 *   --cell: dann only: one cell of the table (e.g. dann.usps), trained alone, for more seeds on a row
 *   --cache-dir: the embedded data's cache (sets DLCV_CACHE_DIR for everything this runs)
 *   --epochs: dann's and gan's (ddpm runs its preset); --width, --preset: the DCGAN's ngf = ndf and
 *   optimizer preset (gan only; default 32 and report)
 *   --mirror-loss: gan only: the PyTorch mirror's BCE on D's logits, as the package computes it
 *   (default), or the tutorial's BCELoss on D's sigmoid output
 *   --side: which side's missing seeds to run now (none: only redraw the table from the results there)
 * Needs a built workspace (`pnpm build`) and, for the PyTorch side, a python3 with torch.
 */
'use strict';
const path = require('node:path');
const { arg, positive, runParity, seedList } = require('./runner');

const PROBLEMS = { dann: require('./dann'), ddpm: require('./ddpm'), gan: require('./gan') };

async function main() {
  const name = process.argv[2];
  if (!PROBLEMS[name]) throw new Error(`usage: parity.js <${Object.keys(PROBLEMS).join('|')}> [flags] (got ${name ?? 'nothing'})`);
  const cell = arg('cell');
  if (cell !== undefined && !PROBLEMS[name].cell) throw new Error(`--cell: only dann has cells (got ${name})`);
  const problem = cell === undefined ? PROBLEMS[name] : PROBLEMS[name].cell(cell);
  const side = arg('side', 'both');
  const sides = { both: ['ours', 'torch'], ours: ['ours'], torch: ['torch'], none: [] }[side];
  if (!sides) throw new Error(`--side: expected both, ours, torch or none, got "${side}"`);
  const seeds = seedList('seeds', arg('seeds', '0,1,2'));
  const cacheDir = arg('cache-dir');
  if (cacheDir) process.env.DLCV_CACHE_DIR = path.resolve(cacheDir);
  const ctx = {
    out: path.resolve(arg('out', 'runs/parity')),
    width: positive('width', arg('width')),
    preset: arg('preset'),
    mirrorLoss: arg('mirror-loss'),
    epochs: positive('epochs', arg('epochs')),
    threads: positive('threads', arg('threads', '2')),
    sides,
    seeds: { ours: seeds, torch: seedList('torch-seeds', arg('torch-seeds', seeds.join(','))) },
  };
  const { verdicts } = await runParity(problem, ctx);
  const outside = Object.entries(verdicts).filter(([, v]) => !v.within);
  console.log(`parity ${problem.name}: ${Object.keys(verdicts).length - outside.length} of ${Object.keys(verdicts).length} metrics within PyTorch's spread`);
}

main().catch((err) => {
  console.error(`parity: ${err.message}`);
  process.exit(1);
});
