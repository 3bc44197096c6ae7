#!/usr/bin/env node
// Builds the optional native engine (packages/core/native, N-API + oneDNN + OpenMP) with node-gyp
// and copies it to packages/core/build/Release/dlcv_native.node.
// It never fails the surrounding install/build: when it cannot build, it prints one line saying
// why and exits 0 (the toolkit then runs on the tfjs cpu backend). Required as a module it builds
// nothing and exports `systemInputs()`, the files outside the repository that decide the build
// (tools/system-libraries.js puts them in turbo's hash).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const pkgDir = path.resolve(__dirname, '..');
const nativeDir = path.join(pkgDir, 'native');
const outDir = path.join(pkgDir, 'build', 'Release');
const outFile = path.join(outDir, 'dlcv_native.node');

function skip(reason) {
  console.log(`dlcv-native: not built (${reason}); the engine will fall back to the tfjs cpu backend.`);
  process.exit(0);
}

function firstExisting(paths) {
  return paths.find((p) => p && fs.existsSync(p));
}

/** Where oneDNN's header is looked for, in order. */
function dnnlHeaders() {
  const incDirs = ['/usr/include', '/usr/local/include', process.env.DNNL_ROOT && path.join(process.env.DNNL_ROOT, 'include')];
  return incDirs.filter(Boolean).map((d) => path.join(d, 'oneapi', 'dnnl', 'dnnl.hpp'));
}

/** Where libdnnl.so is looked for, in order. */
function dnnlLibraries() {
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib', '/usr/lib64'];
  return libDirs.map((d) => path.join(d, 'libdnnl.so'));
}

/** The files outside the repository whose presence and version decide this build. */
function systemInputs() {
  return [...dnnlHeaders(), ...dnnlLibraries()];
}

function main() {
  if (process.env.DLCV_SKIP_NATIVE === '1') skip('DLCV_SKIP_NATIVE=1');
  if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported yet`);

  if (!firstExisting(dnnlHeaders())) skip('oneDNN headers not found: install libdnnl-dev (Debian/Ubuntu: apt-get install -y libdnnl-dev)');
  if (!firstExisting(dnnlLibraries())) skip('libdnnl.so not found: install libdnnl-dev');

  // node-gyp: local dependency, or the copy bundled with npm.
  const execPrefix = path.resolve(path.dirname(process.execPath), '..');
  let gyp;
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [pkgDir] });
  } catch {
    gyp = firstExisting([
      path.join(execPrefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
      '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
      '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
      '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    ]);
  }
  if (!gyp) skip('node-gyp not found (it ships with npm)');

  // Offline-friendly: use the Node headers installed beside the node binary when present.
  const nodedir = firstExisting([execPrefix, '/usr', '/usr/local'].filter((d) => fs.existsSync(path.join(d, 'include', 'node', 'node_api.h'))));
  if (!nodedir) skip('Node headers (include/node/node_api.h) not found');

  const args = [gyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs=max', '--silent'];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', env: process.env });
  if (r.status !== 0) {
    const text = `${r.stderr || ''}\n${r.stdout || ''}`;
    const line =
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /error/i.test(l))[0] || (r.error ? String(r.error.message) : `node-gyp exited with ${r.status}`);
    skip(`compile failed: ${line.slice(0, 300)}`);
  }
  const built = path.join(nativeDir, 'build', 'Release', 'dlcv_native.node');
  if (!fs.existsSync(built)) skip('node-gyp succeeded but produced no dlcv_native.node');
  fs.mkdirSync(outDir, { recursive: true });
  // Copy then rename: a process that has the old addon loaded keeps its (unlinked) file intact.
  fs.copyFileSync(built, `${outFile}.tmp`);
  fs.renameSync(`${outFile}.tmp`, outFile);
  // Quick load check, so a broken link (missing libgomp, ...) is reported here, not at run time.
  const check = spawnSync(process.execPath, ['-e', `const m=require(${JSON.stringify(outFile)});console.log(JSON.stringify(m.info()))`], { encoding: 'utf8' });
  if (check.status !== 0) {
    fs.rmSync(outFile, { force: true });
    skip(`built but cannot be loaded: ${(check.stderr || '').split('\n').find((l) => l.trim()) || 'unknown error'}`);
  }
  console.log(`dlcv-native: built ${path.relative(process.cwd(), outFile)} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${check.stdout.trim()})`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    skip(`unexpected error: ${e && e.message ? e.message : e}`);
  }
}
module.exports = { systemInputs };
