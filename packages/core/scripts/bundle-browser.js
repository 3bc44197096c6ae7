#!/usr/bin/env node
// Bundles a report page script for the browser (one classic script, no modules: a page opened
// from file:// can load nothing else):
//   node bundle-browser.js <entry.ts> <out.js>
// Used by this package's build (the page) and by the model packages' builds (their live panels).
// In the bundle `@dlcv/core` means core's browser entry (dist/browser.js): the RNG, the pixel
// conversions, zod, the page helpers. Node built-ins and TensorFlow.js are refused: a module that
// pulls them in does not belong in a page.
'use strict';
const fs = require('fs');
const path = require('path');

const [entry, out] = process.argv.slice(2);
if (!entry || !out) {
  console.error('usage: node bundle-browser.js <entry.ts> <out.js>');
  process.exit(2);
}
// esbuild is a devDependency of every package that bundles a page (resolved from the caller first).
const esbuild = require(require.resolve('esbuild', { paths: [process.cwd(), __dirname] }));
const coreBrowser = path.join(__dirname, '..', 'dist', 'browser.js');

const coreEntry = {
  name: 'dlcv-core-browser',
  setup(build) {
    build.onResolve({ filter: /^@dlcv\/core$/ }, () => ({ path: coreBrowser }));
  },
};

esbuild
  .build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [coreEntry],
  })
  .then((result) => {
    const heavy = Object.keys(result.metafile.inputs).filter((f) => f.includes('@tensorflow'));
    if (heavy.length) throw new Error(`${entry} pulls TensorFlow.js into the page (${heavy[0]}); import the tfjs-free modules instead`);
    console.log(`bundled ${out} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB)`);
  })
  .catch((err) => {
    console.error(`bundle-browser: ${err.message}`);
    process.exit(1);
  });
