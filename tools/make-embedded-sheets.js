#!/usr/bin/env node
/**
 * Regenerates docs/images/embedded-<name>.png: a 10x10 sample sheet (rows = digits 0-9)
 * of each embedded digit set, built first (default seed, default cache folder) if missing.
 * Needs a built @dlcv/core (`pnpm --filter @dlcv/core build`).
 *
 * Usage: node tools/make-embedded-sheets.js [--cache-dir DIR]
 */
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');

const core = createRequire(path.join(__dirname, 'package.json'))('@dlcv/core');

async function main() {
  const i = process.argv.indexOf('--cache-dir');
  const cacheDir = i > 0 ? process.argv[i + 1] : undefined;
  const dirs = await core.buildAllEmbedded({ cacheDir, log: (m) => console.log(m) });
  for (const [name, dir] of Object.entries(dirs)) {
    const out = path.join(__dirname, '..', 'docs', 'images', `embedded-${name}.png`);
    await core.writeSampleSheet(dir, out, { perDigit: 10, scale: 2, gap: 2, palette: true });
    console.log(`${out}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
