#!/usr/bin/env node
// Packs what a lent GPU machine needs for gpu-check.sh: it has g++, python3 with a CUDA torch
// wheel and nvidia-smi, but no node and no network. Writes build/device/ (git-ignored):
//   node.xz          this machine's node binary, stripped (it needs only glibc >= 2.28 and libstdc++)
//   node-include/    the four N-API headers the addon is compiled against
//   modules.tar.xz   the packages' built dist folders, the sources and tests of core, the model
//                    packages and eval as JavaScript (packages/*/dist-test, see transpileTests), the node_modules links
//                    and the packages that the kernel suite (jest), the bench and the ddpm
//                    training run (@dlcv/* and their dependencies: the loss plot's vega, the
//                    digit grader's ONNX Runtime, the `mnist` digits the embedded MNIST-M is built
//                    from) load, without source maps, type declarations, browser bundles and the
//                    files no node process loads (see keepFile); the packages only other commands
//                    load (the face detector, the WASM backend) stay out
// Run it after `pnpm build`, then hand the device tool carry ["build/device"] (the working tree
// and it must stay under 64 MiB: it prints the total) and the commands
// `bash tools/device/gpu-check.sh engine`, then `bash tools/device/gpu-check.sh ddpm`.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'build', 'device');
// Loaded only by commands the device run does not use: the face grader, the WASM backend, the
// canvas the syndigits build draws with (embedded/syndigits-render.ts loads it on first use), and
// the report pages' browser side: ONNX Runtime Web (113 MiB alone), vega-embed, playwright-core.
const LEFT_OUT = new Set(['@vladmandic/face-api', 'core-js', '@tensorflow/tfjs-backend-wasm', '@napi-rs/canvas', 'onnxruntime-web', 'vega-embed', 'playwright-core']);
// What one device call carries: the working tree (tracked files) and build/device together.
const CARRY_LIMIT_MIB = 64;
const DROPPED = /(\.map|\.[cm]?ts|\.min\.js|\.es2017\.js|\.fesm\.js|\.md|\.markdown)$/;

/**
 * Whether a file of package `name` (`rel`: its path inside the package; `main`: its package.json's
 * main) travels. tfjs packages are loaded through their node bundle alone (dist/*.node.js, which
 * requires only package roots); vega's packages through their main file alone, a bundle that
 * requires only package roots (their ESM, browser and ES5 builds, sources and schema stay out);
 * zod through its CommonJS files (.cjs: the `require` condition of its exports); the mnist
 * package through its digits (embedded/common.ts reads src/digits/*.json); ONNX Runtime through
 * its linux-x64 binding (the only one there).
 */
function keepFile(name, rel, main) {
  if (rel === 'package.json') return true;
  if (DROPPED.test(rel)) return false;
  if (name.startsWith('@tensorflow/')) return /^dist\/[^/]+\.node\.js$/.test(rel);
  if (name === 'vega' || name.startsWith('vega-')) return rel === path.posix.normalize(main ?? 'index.js');
  if (name === 'zod') return rel.endsWith('.cjs');
  if (name === 'mnist') return rel.startsWith('src/digits/');
  if (name === 'onnxruntime-node') return !rel.startsWith('bin/') || rel.includes('/linux/x64/');
  return true;
}

/** Every file and link of the package folder `dir` that keepFile keeps, relative to the root. */
function packageFiles(name, dir) {
  const { main } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const out = [];
  const walk = (sub) => {
    for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(rel);
      } else if (keepFile(name, rel, main)) out.push(path.relative(root, path.join(dir, rel)));
    }
  };
  walk('');
  return out;
}

/** The real folder of package `name` as node would resolve it from `from` (pnpm's links). */
function locate(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return fs.realpathSync(p);
    if (dir === path.dirname(dir)) return null;
  }
}

const BUILTINS = new Set(require('module').builtinModules);

/**
 * The packages that the JavaScript files `files` (relative to the root) require by bare name:
 * a package may load one it does not declare (tfjs's node bundle requires `long` and
 * `seedrandom`), which node then finds through pnpm's hoisted links.
 */
function requiredPackages(files) {
  const names = new Set();
  for (const f of files) {
    if (!/\.c?js$/.test(f)) continue;
    for (const m of fs.readFileSync(path.join(root, f), 'utf8').matchAll(/\brequire\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)) {
      const parts = m[1].split('/');
      const name = m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (!BUILTINS.has(name) && !name.startsWith('node:')) names.add(name);
    }
  }
  return names;
}

/**
 * The files of every package reachable from the roots (keepFile's) through declared
 * dependencies and bare requires, and the links inside their node_modules/.pnpm/<id>/node_modules
 * folders through which they find their dependencies.
 */
function closure(roots) {
  const seen = new Set();
  const files = [];
  const storeLinks = new Set();
  const visit = (name, from) => {
    if (LEFT_OUT.has(name)) return;
    const dir = locate(name, from);
    if (!dir || seen.has(dir)) return; // an optional dependency for another platform, or done
    seen.add(dir);
    const rel = path.relative(root, dir).split(path.sep);
    const nm = path.join(root, ...rel.slice(0, 4));
    // the workspace's own packages travel as the working tree and their dist folders (below)
    let required = new Set();
    if (rel[0] === 'node_modules' && rel[1] === '.pnpm') {
      const own = packageFiles(name, dir);
      files.push(...own);
      required = requiredPackages(own);
      for (const e of fs.readdirSync(nm, { withFileTypes: true })) {
        const scoped = e.name.startsWith('@') && e.isDirectory() ? fs.readdirSync(path.join(nm, e.name)).map((n) => `${e.name}/${n}`) : [e.name];
        for (const n of scoped) if (fs.lstatSync(path.join(nm, n)).isSymbolicLink()) storeLinks.add(path.relative(root, path.join(nm, n)));
      }
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of new Set([...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }), ...required])) if (dep !== name) visit(dep, dir);
  };
  for (const [from, names] of roots) for (const n of names) visit(n, from);
  return { files: files.sort(), storeLinks: [...storeLinks].sort(), packages: seen.size };
}

/**
 * Writes a package's src/ as JavaScript into packages/<name>/dist-test/ (the same folder depth, so
 * paths built from __dirname land where they do from src/), with the swc options jest's transform
 * uses, and a jest config that runs it untransformed: the device runs core's kernel suite and the
 * engine tests (engines.test.ts) of the model packages and eval without swc, whose binary (10 MiB, already
 * compressed) would not fit the 64 MiB a call carries. Returns the files written, relative to the root.
 */
function transpileTests(name) {
  const swc = require('@swc/core');
  const base = require(path.join(root, 'jest.config.base.js'));
  const options = Object.values(base.transform)[0][1];
  const src = path.join(root, 'packages', name, 'src');
  const dest = path.join(root, 'packages', name, 'dist-test');
  fs.rmSync(dest, { recursive: true, force: true });
  const written = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.name.endsWith('.ts')) {
        const out = path.join(dest, path.relative(src, file)).replace(/\.ts$/, '.js');
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, swc.transformSync(fs.readFileSync(file, 'utf8'), { ...options, filename: file }).code);
        written.push(path.relative(root, out));
      }
    }
  };
  walk(src);
  const config = path.join(dest, 'jest.config.js');
  fs.writeFileSync(
    config,
    `// Written by tools/device/bundle.js: the package's tests as JavaScript, run without a transform.
module.exports = { ...require('../../../jest.config.base.js'), rootDir: __dirname, roots: ['<rootDir>'], testMatch: ['**/*.test.js'], transform: {} };
`,
  );
  return [...written, path.relative(root, config)].sort();
}

function main() {
  const pkgNames = ['core', 'eval', 'gan', 'ddpm', 'dann'];
  const pkgDirs = pkgNames.map((p) => path.join(root, 'packages', p));
  const toolsLinks = path.join('tools', 'node_modules'); // the bench resolves @dlcv/* through it
  const deps = (dir) => Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies ?? {});
  const { files, storeLinks, packages } = closure([[root, ['jest', 'jest-environment-node']], ...pkgDirs.map((d) => [d, deps(d)])]);
  const tests = pkgNames.flatMap((name) => transpileTests(name));
  // the links node resolves through: the root's, the hoisted ones, each package's
  const links = [
    'node_modules/.pnpm/node_modules',
    ...fs
      .readdirSync(path.join(root, 'node_modules'))
      .filter((n) => n !== '.pnpm' && !n.startsWith('.'))
      .map((n) => `node_modules/${n}`),
  ];
  const pkgLinks = pkgDirs.flatMap((d) => ['node_modules', 'dist'].map((sub) => path.relative(root, path.join(d, sub)))).filter((p) => fs.existsSync(path.join(root, p)));
  // node.xz is kept from an earlier run when it is newer than the node binary (xz -9e of node takes minutes)
  const nodeXz = path.join(out, 'node.xz');
  const keepNode = fs.existsSync(nodeXz) && fs.statSync(nodeXz).mtimeMs > fs.statSync(process.execPath).mtimeMs;
  for (const f of ['modules.tar.xz', 'modules.txt', 'node-include', ...(keepNode ? [] : ['node.xz'])]) fs.rmSync(path.join(out, f), { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'node-include'), { recursive: true });
  const list = path.join(out, 'modules.txt');
  fs.writeFileSync(list, [...links, ...pkgLinks, toolsLinks, ...tests, ...storeLinks, ...files].join('\n') + '\n');
  const xz = { ...process.env, XZ_OPT: '-9e -T0' };
  const excludes = ['*.map', '*.ts', '*.min.js', '*.es2017.js', '*.fesm.js'].map((p) => `--exclude=${p}`);
  execFileSync('tar', ['-cJf', path.join(out, 'modules.tar.xz'), ...excludes, '-C', root, '-T', list], { env: xz, stdio: 'inherit' });
  if (!keepNode) {
    execFileSync('sh', ['-c', `strip -o "${nodeXz}.bin" "${process.execPath}" && xz -9e -T0 -c "${nodeXz}.bin" > "${nodeXz}.tmp" && rm "${nodeXz}.bin"`], { stdio: 'inherit' });
    fs.renameSync(`${nodeXz}.tmp`, nodeXz);
  }
  const inc = ['/usr/include/node', path.join(path.dirname(process.execPath), '..', 'include', 'node')].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  for (const h of ['node_api.h', 'node_api_types.h', 'js_native_api.h', 'js_native_api_types.h']) fs.copyFileSync(path.join(inc, h), path.join(out, 'node-include', h));
  const size = (f) => fs.statSync(path.join(out, f)).size;
  const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(root, f)))
    .reduce((sum, f) => sum + fs.lstatSync(path.join(root, f)).size, 0);
  const total = size('modules.tar.xz') + size('node.xz') + tracked;
  console.log(
    `bundle: ${packages} packages; build/device/modules.tar.xz ${mb(size('modules.tar.xz'))} MiB, node.xz ${mb(size('node.xz'))} MiB (node ${process.version}); with the tracked files (${mb(tracked)} MiB) ${mb(total)} MiB of the ${CARRY_LIMIT_MIB} MiB a device call carries`,
  );
  if (total > CARRY_LIMIT_MIB * 2 ** 20) {
    console.error(`bundle: over the device call's limit by ${mb(total - CARRY_LIMIT_MIB * 2 ** 20)} MiB: the call would be refused; leave more out (LEFT_OUT, keepFile)`);
    process.exitCode = 1;
  }
}

main();
