#!/usr/bin/env node
// The size limit of the TypeScript sources (eslint's max-lines, 450) for the native engines' C++
// files too (native/src: oneDNN, native-torch/src: libtorch).
const fs = require('node:fs');
const path = require('node:path');

const MAX_LINES = 450;
const tooLong = [];
for (const dir of ['native/src', 'native-torch/src']) {
  const root = path.join(__dirname, '..', dir);
  for (const name of fs.readdirSync(root, { recursive: true }).map(String).sort()) {
    if (!/\.(cc|h)$/.test(name)) continue;
    const lines = fs.readFileSync(path.join(root, name), 'utf8').split('\n').length - 1;
    if (lines > MAX_LINES) tooLong.push(`${dir}/${name}: ${lines} lines (at most ${MAX_LINES})`);
  }
}
if (tooLong.length) {
  console.error(tooLong.join('\n'));
  process.exit(1);
}
