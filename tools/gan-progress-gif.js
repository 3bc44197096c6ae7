#!/usr/bin/env node
/**
 * A small progress GIF for a README from a gan run's per-epoch grids: the top-left N x N tiles
 * (the first noise vectors of each row) of every `samples/epoch-NNN.png`, in epoch order. The
 * run's own progress.gif shows all 64 tiles and weighs megabytes.
 *
 * Usage: node tools/gan-progress-gif.js <run-dir> <out.gif> [--tiles 4] [--every 1]
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const core = createRequire(path.join(__dirname, 'package.json'))('@dlcv/core');

// The trainer's grids: 8 columns of 64x64 tiles, 2 pixels of padding (core's makeGrid default).
const TILE = 64;
const PAD = 2;
const COLS = 8;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function crop(img, size) {
  const out = new Uint8Array(size * size * img.channels);
  for (let y = 0; y < size; y++) out.set(img.data.subarray(y * img.width * img.channels, (y * img.width + size) * img.channels), y * size * img.channels);
  return { width: size, height: size, channels: img.channels, data: out };
}

async function main() {
  const [runDir, outFile] = process.argv.slice(2);
  if (!runDir || !outFile) throw new Error('usage: node tools/gan-progress-gif.js <run-dir> <out.gif> [--tiles 4] [--every 1]');
  const tiles = arg('tiles', 4);
  const every = arg('every', 1);
  if (!(Number.isInteger(tiles) && tiles >= 1 && tiles <= COLS)) throw new Error(`--tiles: expected 1..${COLS}`);
  if (!(Number.isInteger(every) && every >= 1)) throw new Error('--every: expected a positive integer');
  const dir = path.join(runDir, 'samples');
  const names = fs
    .readdirSync(dir)
    .filter((f) => /^epoch-\d+\.png$/.test(f))
    .sort();
  if (names.length === 0) throw new Error(`${dir}: no epoch-NNN.png grids`);
  const picked = names.filter((_, i) => (i + 1) % every === 0 || i === names.length - 1);
  const size = tiles * TILE + (tiles + 1) * PAD;
  const frames = [];
  for (const name of picked) {
    const img = await core.readImage(path.join(dir, name), { channels: 3 });
    if (img.width !== COLS * TILE + (COLS + 1) * PAD) throw new Error(`${path.join(dir, name)}: ${img.width} pixels wide, not a gan run's 8-column grid`);
    frames.push(crop(img, size));
  }
  await core.writeGif(outFile, frames, { delayMs: 300, lastDelayMs: 2000 });
  console.log(`${outFile}: ${frames.length} frames (${picked.join(', ')}), ${size}x${size}, ${fs.statSync(outFile).size} bytes`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
