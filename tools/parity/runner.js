/**
 * What every problem's parity check shares: the seeds' result files, running a command and
 * reading its output, finding PyTorch, and the table with its verdicts.
 *
 * One result file per side and seed, `<out>/<problem>/<side>-seed<N>.json`: { problem, side,
 * seed, recipe, metrics: { key: number }, seconds, detail }. A file whose recipe equals the
 * current one is reused, so a check can be spread over several sessions (or machines: the
 * PyTorch seeds on a GPU, the project's on a CPU) and the table drawn from whatever is there.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const { parityTable } = require('./stats');

const toolsRequire = createRequire(path.join(__dirname, '..', 'package.json'));
const REPO = path.join(__dirname, '..', '..');
const SIDES = ['ours', 'torch'];

const resultFile = (out, problem, side, seed) => path.join(out, problem, `${side}-seed${seed}.json`);

/** The stored result of this side and seed when it was made with `recipe`; otherwise undefined. */
function readResult(file, recipe) {
  if (!fs.existsSync(file)) return undefined;
  let r;
  try {
    r = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a parity result (${err.message}); delete it to run this seed again`, { cause: err });
  }
  return JSON.stringify(r.recipe) === JSON.stringify(recipe) ? r : undefined;
}

const writeJson = (file, value) => toolsRequire('@dlcv/core').writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');

/** Writes a seed's result, atomically (core's writeFileAtomic). */
const writeResult = (file, result) => writeJson(file, result);

/** Runs a command with the output shown live (stdio inherited) or captured; throws on failure. */
function run(command, args, { capture = false, env } = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { cwd: REPO, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit status ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
  return capture ? r.stdout.toString() : '';
}

/** The last line of a command's stdout, parsed as JSON. */
function runJson(command, args, options) {
  const lines = run(command, args, { ...options, capture: true })
    .trim()
    .split('\n');
  const last = lines[lines.length - 1];
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${command} ${args.join(' ')}: its last output line is not JSON: ${last.slice(0, 200)}`);
  }
}

/** The value after `--name` on the command line, or `fallback`. */
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** A flag's value as a positive integer (undefined stays undefined); a clear error otherwise. */
function positive(flag, text) {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag}: expected a positive integer, got "${text}"`);
  return v;
}

/**
 * Runs torch/<script> (a PyTorch mirror) with a python3 that has torch (core's search:
 * DLCV_PYTHON, python3, /usr/bin/python3) and core's malloc settings for PyTorch; returns the
 * JSON of its last output line.
 */
function runTorchMirror(script, args) {
  const core = toolsRequire('@dlcv/core');
  const { python, tried } = core.findTorchPython();
  if (!python) throw new Error(`no python3 with torch (tried ${tried.join(', ')}; Debian: apt-get install python3-torch libopenblas0, or set DLCV_PYTHON)`);
  return runJson(python, ['-B', path.join(__dirname, 'torch', script), ...args].map(String), { env: core.torchPythonEnv() });
}

/**
 * Runs the seeds of each side that lack a result for this recipe, then writes
 * `<out>/<problem>/parity.{md,json}`. `problem`: { name, recipe, metrics, prepare(ctx),
 * runSeed(ctx, side, seed) -> { metrics, seconds, detail }, and optionally
 * afterSeeds(ctx, results) for what a problem draws from all its seeds (gan: seeds.png) and
 * remeasure(ctx, result) for metrics a stored result lacks (see remeasured) }.
 */
async function runParity(problem, ctx) {
  const { out, sides, seeds } = ctx;
  const recipe = problem.recipe(ctx);
  const results = { ours: [], torch: [] };
  let prepared = false;
  for (const side of SIDES) {
    for (const seed of seeds[side]) {
      const file = resultFile(out, problem.name, side, seed);
      let r = readResult(file, recipe);
      if (!r && sides.includes(side)) {
        if (!prepared) await problem.prepare(ctx);
        prepared = true;
        console.log(`parity ${problem.name}: ${side} seed ${seed}`);
        const started = Date.now();
        const made = await problem.runSeed(ctx, side, seed);
        r = { problem: problem.name, side, seed, recipe, seconds: Math.round((Date.now() - started) / 1000), ...made };
        await writeResult(file, r);
      }
      if (r && problem.remeasure && problem.metrics.some((m) => r.metrics[m.key] === undefined)) {
        if (!prepared) await problem.prepare(ctx);
        prepared = true;
        r = await remeasured(problem, ctx, file, r);
      }
      if (r) results[side].push(r);
      else console.log(`parity ${problem.name}: no ${side} result for seed ${seed} with this recipe (${file})`);
    }
  }
  if (problem.afterSeeds) await problem.afterSeeds(ctx, results);
  return writeTable(problem, ctx, recipe, results);
}

/**
 * A stored result that lacks metrics the problem has since gained, with those measured from
 * what the seed kept (its images): `problem.remeasure(ctx, result)` -> { key: number } or
 * undefined when they are gone. Stored values stay as they are; the file is rewritten.
 */
async function remeasured(problem, ctx, file, r) {
  const lacking = problem.metrics.filter((m) => r.metrics[m.key] === undefined).map((m) => m.key);
  const measured = await problem.remeasure(ctx, r);
  if (!measured) {
    console.log(`parity ${problem.name}: ${r.side} seed ${r.seed} lacks ${lacking.join(', ')} and its outputs are gone`);
    return r;
  }
  const added = Object.fromEntries(lacking.filter((k) => measured[k] !== undefined).map((k) => [k, measured[k]]));
  if (Object.keys(added).length === 0) {
    console.log(`parity ${problem.name}: ${r.side} seed ${r.seed} lacks ${lacking.join(', ')}, which its kept outputs do not give`);
    return r;
  }
  console.log(`parity ${problem.name}: ${r.side} seed ${r.seed}: measured ${Object.keys(added).join(', ')} from its kept outputs`);
  const updated = { ...r, metrics: { ...r.metrics, ...added } };
  await writeResult(file, updated);
  return updated;
}

async function writeTable(problem, ctx, recipe, results) {
  const { markdown, verdicts, missing } = parityTable(problem.metrics, results);
  const dir = path.join(ctx.out, problem.name);
  const lines = [`recipe: ${JSON.stringify(recipe)}`, '', markdown];
  if (missing.length > 0) lines.push('', `not compared (a side has too few seeds): ${missing.join(', ')}`);
  await toolsRequire('@dlcv/core').writeFileAtomic(path.join(dir, 'parity.md'), lines.join('\n') + '\n');
  const seconds = (side) => results[side].map((r) => r.seconds);
  await writeJson(path.join(dir, 'parity.json'), { recipe, verdicts, missing, seconds: { ours: seconds('ours'), torch: seconds('torch') } });
  console.log(lines.join('\n'));
  return { verdicts, missing };
}

/** A flag's value as a non-negative integer (undefined stays undefined); a clear error otherwise. */
function nonNegative(flag, text) {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`--${flag}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

/** A flag's comma-separated list of non-negative integers (seeds); a clear error naming the flag otherwise. */
function seedList(flag, text) {
  const seeds = text.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s))) throw new Error(`--${flag}: expected non-negative integers separated by commas, got "${text}"`);
  return seeds.map(Number);
}

module.exports = { REPO, arg, positive, nonNegative, seedList, toolsRequire, resultFile, readResult, writeJson, writeResult, run, runTorchMirror, runParity };
