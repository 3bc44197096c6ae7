#!/usr/bin/env node
// Writes a digits folder (homework layout) as raw uint8 arrays for scripts/recipe_check.py:
//   <out>/<split>_x.u8  N x 28 x 28 x 3 pixels (HWC)     <out>/<split>_y.u8  N labels
// usage: node scripts/export-raw-digits.js <digits_dir> <out_dir>
const fs = require('node:fs');
const path = require('node:path');
const { openDigits } = require('@dlcv/core');

async function main() {
  const [root, out] = process.argv.slice(2);
  if (!root || !out) throw new Error('usage: node scripts/export-raw-digits.js <digits_dir> <out_dir>');
  fs.mkdirSync(out, { recursive: true });
  for (const split of ['train', 'val']) {
    const ds = await openDigits(root, split);
    const x = await ds.getPixelsBatch(Array.from({ length: ds.length }, (_, i) => i));
    fs.writeFileSync(path.join(out, `${split}_x.u8`), x);
    fs.writeFileSync(path.join(out, `${split}_y.u8`), Uint8Array.from(ds.labels));
    console.log(`${split}: ${ds.length} images`);
  }
}
main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
