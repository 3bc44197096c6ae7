/**
 * Problem 3's parity check: `dlcv-dann train-all` (the project) against torch/dann_parity.py
 * (the same networks and training rules in PyTorch), on the embedded digits, compared on the
 * report table's rows.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { percent } = require('./stats');
const { REPO, run, runTorchMirror, toolsRequire } = require('./runner');

const DOMAINS = ['mnistm', 'svhn', 'usps'];
const SCENARIOS = ['svhn', 'usps'];
const NAMES = { mnistm: 'MNIST-M', svhn: 'SVHN', usps: 'USPS' };
const ROWS = { lowerBound: 'source only', sourceBn: 'source + target BN statistics', dann: 'DANN', upperBound: 'target only' };

/** One metric per cell of the report's table: `lowerBound.svhn` = MNIST-M -> SVHN, source only. */
const metrics = [];
for (const [row, rowLabel] of Object.entries(ROWS)) {
  for (const d of DOMAINS) {
    if ((row === 'sourceBn' || row === 'dann') && d === 'mnistm') continue;
    if (row === 'upperBound' && d === 'mnistm') continue; // the lower bound's cell: the same run
    metrics.push({ key: `${row}.${d}`, label: `MNIST-M -> ${NAMES[d]}, ${rowLabel}`, format: percent });
  }
}

const recipe = (ctx) => ({ epochs: ctx.epochs ?? 10, batch: 256, lr: 1e-3 });

/** The cells one `dlcv-dann train` run fills: `<row>.<scenario>` -> the run's --mode. */
const CELL_MODES = { lowerBound: 'source', dann: 'dann', upperBound: 'target' };

function flatten(table) {
  const out = {};
  for (const row of Object.keys(ROWS)) {
    DOMAINS.forEach((d, i) => {
      const v = table[row][i];
      if (v !== null && v !== undefined) out[`${row}.${d}`] = v;
    });
  }
  return out;
}

/** The images exactly as the package feeds them (grayscale 28x28 in [-1, 1]), as raw float32 and uint8 labels. */
async function prepare(ctx) {
  const dir = path.join(ctx.out, 'data', 'dann');
  const done = path.join(dir, 'manifest.json');
  if (fs.existsSync(done)) return;
  const dann = toolsRequire('@dlcv/dann');
  fs.mkdirSync(dir, { recursive: true });
  const counts = {};
  for (const d of DOMAINS) {
    const folder = await dann.resolveDomain(d, { log: console.log });
    for (const split of ['train', 'val']) {
      const ds = await dann.openDomain(folder, split, 28);
      const { x, y } = await ds.getBatch(
        Array.from({ length: ds.length }, (_, i) => i),
        { range: [-1, 1] },
      );
      fs.writeFileSync(path.join(dir, `${d}-${split}-x.f32`), Buffer.from((await x.data()).buffer));
      fs.writeFileSync(path.join(dir, `${d}-${split}-y.u8`), Buffer.from(Uint8Array.from(await y.data())));
      x.dispose();
      y.dispose();
      counts[`${d}-${split}`] = ds.length;
    }
  }
  fs.writeFileSync(done, JSON.stringify({ source: "the dann package's openDomain, scaled to [-1, 1]", counts }, null, 2) + '\n');
}

/** The training flags both sides take from the recipe. */
const recipeFlags = (r, seed) => ['--epochs', r.epochs, '--batch', r.batch, '--lr', r.lr, '--seed', seed];

/** The package's CLI with these arguments. */
const dlcvDann = (args) => run(process.execPath, [path.join(REPO, 'packages/dann/bin/dlcv-dann.js'), ...args.map(String)]);

/** The PyTorch mirror on the exported data, with these extra arguments. */
const mirror = (ctx, seed, extra = []) =>
  runTorchMirror('dann_parity.py', ['--data', path.join(ctx.out, 'data', 'dann'), ...recipeFlags(recipe(ctx), seed), '--threads', ctx.threads, ...extra]);

async function runSeed(ctx, side, seed) {
  if (side === 'ours') {
    const dir = path.join(ctx.out, 'dann', `ours-seed${seed}-runs`);
    dlcvDann(['train-all', '--out', dir, ...recipeFlags(recipe(ctx), seed), '--save-every', 1000]);
    const t = JSON.parse(fs.readFileSync(path.join(dir, 'table.json'), 'utf8'));
    return { metrics: flatten(t.table), detail: { bestEpoch: t.bestEpoch, matrix: t.matrix, runs: dir } };
  }
  const t = mirror(ctx, seed);
  return { metrics: flatten(t.table), detail: { bestEpoch: t.bestEpoch, matrix: t.matrix, torch: t.torch, threads: t.threads } };
}

const problem = { name: 'dann', metrics, recipe, prepare, runSeed };

/**
 * One cell of the table as a problem of its own, for more seeds on one row at a fraction of
 * train-all's time: `dann.usps` trains only `train --scenario usps --mode dann` (and the
 * mirror's same run). Its seeds give the same values as train-all's run of that seed, as each
 * run draws from its seed alone. Results go to `<out>/dann-<cell>/`.
 */
function cell(key) {
  const [row, scenario] = key.split('.');
  const mode = CELL_MODES[row];
  const known = Object.keys(CELL_MODES).flatMap((r) => SCENARIOS.map((s) => `${r}.${s}`));
  if (!mode || !SCENARIOS.includes(scenario)) throw new Error(`--cell: expected one of ${known.join(', ')}, got "${key}"`);
  return {
    name: `dann-${key}`,
    metrics: metrics.filter((m) => m.key === key),
    recipe: (ctx) => ({ ...recipe(ctx), cell: key }),
    prepare,
    async runSeed(ctx, side, seed) {
      if (side === 'ours') {
        const dir = path.join(ctx.out, `dann-${key}`, `ours-seed${seed}-runs`);
        // an interrupted seed continues from its last checkpoint, as train-all's runs do
        dlcvDann(['train', '--scenario', scenario, '--mode', mode, '--out', dir, ...recipeFlags(recipe(ctx), seed), '--save-every', 1000, '--trace', '--resume']);
        const runDir = fs.readdirSync(dir).find((d) => fs.existsSync(path.join(dir, d, 'result.json')));
        if (!runDir) throw new Error(`${dir}: no run folder with a result.json`);
        const result = JSON.parse(fs.readFileSync(path.join(dir, runDir, 'result.json'), 'utf8'));
        return { metrics: { [key]: result.accuracy[scenario] }, detail: { bestEpoch: result.bestEpoch, epochs: result.epochs, runs: dir } };
      }
      const t = mirror(ctx, seed, ['--only', `${mode}:${scenario}`]);
      return { metrics: { [key]: t.accuracy[scenario] }, detail: { bestEpoch: t.bestEpoch, epochs: t.epochs, torch: t.torch, threads: t.threads } };
    },
  };
}

module.exports = { ...problem, cell };
