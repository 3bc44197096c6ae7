#!/usr/bin/env node
// Builds the optional libtorch engine (packages/core/native-torch, N-API over ATen) with g++ into
// packages/core/build/Release/dlcv_torch.node. libtorch is taken from, in order:
//   $TORCH_DIR (a libtorch archive or a torch package: include/ and lib/),
//   the `torch` package of the python3 on PATH (a CUDA wheel on a GPU machine),
//   Debian's libtorch-dev (/usr/include/ATen, CPU only).
// Like build-native.js it never fails the surrounding build: when it cannot build, it prints one
// line saying why, writes that line to build/Release/dlcv_torch.skipped.txt (the engine line
// repeats it) and exits 0.
//
// `node scripts/build-torch.js --check-headers INCLUDE_DIR` builds nothing: it compiles every
// source with -fsyntax-only, with the build's flags, against another libtorch's headers
// (INCLUDE_DIR holds ATen/ and torch/; no libraries needed), prints each file's verdict and
// exits 1 if any fails. tools/device/torch-headers-check.sh runs it on Debian's newer
// libtorch-dev packages, so that an API change of libtorch 2.x shows before a GPU machine's build.
// Required as a module it builds nothing and exports `systemInputs()` (tools/system-libraries.js).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { skip, nodeInclude, loadCheck, reportSkip } = require('./addon-build');

const pkgDir = path.resolve(__dirname, '..');
const srcDir = path.join(pkgDir, 'native-torch', 'src');
const sharedDir = path.join(pkgDir, 'native', 'src'); // napi_util.h and op_codes.h
const objDir = path.join(pkgDir, 'build', 'torch-obj');
const outDir = path.join(pkgDir, 'build', 'Release');
const outFile = path.join(outDir, 'dlcv_torch.node');
const skipFile = path.join(outDir, 'dlcv_torch.skipped.txt');

const exists = (p) => !!p && fs.existsSync(p);

/** libc10 names std::string with the C++11 ABI's mangled __cxx11 namespace, or without it. */
function abiOfLibrary(libDir) {
  const lib = path.join(libDir, 'libc10.so');
  if (!exists(lib)) return 1;
  return fs.readFileSync(lib).includes('St7__cxx1112basic_string') ? 1 : 0;
}

const DEBIAN_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'];

/**
 * The files outside the repository whose presence and version decide this build, for each place
 * findTorch() looks. python3's torch is located without importing it (find_spec), which takes
 * milliseconds where the import takes seconds.
 */
function systemInputs() {
  const inTree = (dir) => [path.join(dir, 'include', 'ATen', 'ATen.h'), path.join(dir, 'lib', 'libtorch_cpu.so'), path.join(dir, 'lib', 'libc10.so')];
  if (process.env.TORCH_DIR) return inTree(path.resolve(process.env.TORCH_DIR));
  const py = spawnSync('python3', ['-c', "import importlib.util as u; s = u.find_spec('torch'); print(s.origin if s and s.origin else '')"], {
    encoding: 'utf8',
    timeout: 30000,
  });
  const origin = py.status === 0 ? py.stdout.trim() : '';
  const python = origin ? [path.join(path.dirname(origin), 'version.py'), ...inTree(path.dirname(origin))] : [];
  return [...python, '/usr/include/ATen/ATen.h', '/usr/include/torch/csrc/api/include/torch/version.h', ...DEBIAN_LIB_DIRS.map((d) => path.join(d, 'libtorch_cpu.so'))];
}

/** { include, lib, abi, source } of the first libtorch found, or a skip. */
function findTorch() {
  if (process.env.TORCH_DIR) {
    const dir = path.resolve(process.env.TORCH_DIR);
    if (!exists(path.join(dir, 'include', 'ATen', 'ATen.h'))) skip(`TORCH_DIR=${dir} has no include/ATen/ATen.h`);
    return { include: path.join(dir, 'include'), lib: path.join(dir, 'lib'), abi: abiOfLibrary(path.join(dir, 'lib')), source: `TORCH_DIR ${dir}` };
  }
  const py = spawnSync('python3', ['-c', 'import torch, os; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))'], {
    encoding: 'utf8',
    timeout: 120000,
  });
  if (py.status === 0) {
    const [dir, abi] = py.stdout.trim().split('\n');
    if (exists(path.join(dir, 'include', 'ATen', 'ATen.h')))
      return { include: path.join(dir, 'include'), lib: path.join(dir, 'lib'), abi: Number(abi), source: `python3's torch ${dir}` };
  }
  const lib = DEBIAN_LIB_DIRS.find((d) => exists(path.join(d, 'libtorch_cpu.so')));
  if (exists('/usr/include/ATen/ATen.h') && lib) return { include: '/usr/include', lib, abi: abiOfLibrary(lib), source: "Debian's libtorch-dev" };
  skip('libtorch not found: set TORCH_DIR, or install libtorch-dev (Debian/Ubuntu: apt-get install -y libtorch-dev) or a python3 torch package');
}

/**
 * TORCH_VERSION_MAJOR/MINOR from torch/version.h, or from torch/headeronly/version.h, which the
 * former only includes in recent releases (2.9 and later).
 */
function torchVersion(include) {
  const files = [path.join(include, 'torch', 'csrc', 'api', 'include', 'torch', 'version.h'), path.join(include, 'torch', 'headeronly', 'version.h')];
  for (const file of files) {
    const text = exists(file) ? fs.readFileSync(file, 'utf8') : '';
    const major = Number(/TORCH_VERSION_MAJOR (\d+)/.exec(text)?.[1] ?? NaN);
    const minor = Number(/TORCH_VERSION_MINOR (\d+)/.exec(text)?.[1] ?? NaN);
    if (Number.isFinite(major) && Number.isFinite(minor)) return { major, minor };
  }
  return skip(`cannot read the libtorch version from ${files.join(' or ')}`);
}

function compilerFlags(torch, version, nodeInc) {
  return [
    // libtorch 2.x headers need C++17 at least and newer ones C++20; 1.13's build with C++17.
    version.major >= 2 ? '-std=c++20' : '-std=c++17',
    '-O2',
    '-fPIC',
    '-pthread',
    '-fvisibility=hidden',
    '-Wall',
    '-Wno-unused-parameter',
    `-D_GLIBCXX_USE_CXX11_ABI=${torch.abi}`,
    '-DNAPI_VERSION=8',
    '-DNODE_GYP_MODULE_NAME=dlcv_torch',
    `-I${nodeInc}`,
    `-I${sharedDir}`,
    `-I${torch.include}`,
    `-I${path.join(torch.include, 'torch', 'csrc', 'api', 'include')}`,
  ];
}

function linkFlags(torch) {
  const has = (name) => exists(path.join(torch.lib, `lib${name}.so`));
  const libs = ['torch', 'torch_cpu', 'c10', ...['torch_cuda', 'c10_cuda'].filter(has)].map((l) => `-l${l}`);
  // --no-as-needed: libtorch_cuda registers the CUDA kernels when loaded; nothing names its symbols.
  return [`-L${torch.lib}`, '-Wl,--no-as-needed', ...libs, '-Wl,--as-needed', `-Wl,-rpath,${torch.lib}`];
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ status: -1, err: e.message }));
    child.on('close', (status) => resolve({ status, err }));
  });
}

/** The addon's .cc files, by name. */
function sourceFiles() {
  return fs
    .readdirSync(srcDir)
    .filter((f) => f.endsWith('.cc'))
    .sort();
}

/** `task` on every item, as many at once as there are cores; rejects with the first task's error. */
async function onEveryCore(items, task) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await task(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(os.availableParallelism(), items.length)) }, worker));
}

/** Compiles every .cc (objects newer than their sources, headers and flags are kept), cores at once. */
async function compileAll(flags) {
  fs.mkdirSync(objDir, { recursive: true });
  const flagFile = path.join(objDir, 'flags.txt');
  const sameFlags = exists(flagFile) && fs.readFileSync(flagFile, 'utf8') === flags.join(' ');
  const headers = [srcDir, sharedDir].flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => f.endsWith('.h'))
      .map((f) => path.join(d, f)),
  );
  const newestHeader = Math.max(...headers.map((h) => fs.statSync(h).mtimeMs));
  const sources = sourceFiles();
  const objects = sources.map((s) => path.join(objDir, s.replace(/\.cc$/, '.o')));
  const stale = sources.filter((s, i) => {
    if (!sameFlags || !exists(objects[i])) return true;
    const built = fs.statSync(objects[i]).mtimeMs;
    return built < fs.statSync(path.join(srcDir, s)).mtimeMs || built < newestHeader;
  });
  await onEveryCore(stale, async (s) => {
    const r = await run('g++', [...flags, '-c', path.join(srcDir, s), '-o', path.join(objDir, s.replace(/\.cc$/, '.o'))]);
    if (r.status !== 0) {
      const line = r.err.split('\n').find((l) => /error/.test(l)) || r.err.split('\n')[0] || `g++ exited with ${r.status}`;
      skip(`compile failed: ${line.trim().slice(0, 300)}`);
    }
  });
  fs.writeFileSync(flagFile, flags.join(' '));
  return { objects, compiled: stale.length };
}

async function main() {
  if (process.env.DLCV_SKIP_TORCH === '1') skip('DLCV_SKIP_TORCH=1');
  if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported`);
  const torch = findTorch();
  const version = torchVersion(torch.include);
  const t0 = Date.now();
  const { objects, compiled } = await compileAll(compilerFlags(torch, version, nodeInclude()));
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${outFile}.tmp`;
  const link = await run('g++', ['-shared', '-pthread', '-o', tmp, ...objects, ...linkFlags(torch)]);
  if (link.status !== 0) skip(`link failed: ${link.err.split('\n').find((l) => l.trim()) || link.status}`);
  // Rename over the old file: a process that has the old addon loaded keeps its (unlinked) copy.
  fs.renameSync(tmp, outFile);
  const info = loadCheck(outFile);
  fs.rmSync(skipFile, { force: true });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`dlcv-torch: built ${path.relative(process.cwd(), outFile)} from ${torch.source} (C++ ABI ${torch.abi}, ${compiled} files compiled) in ${secs} s (${info})`);
}

/** --check-headers: every source through g++ -fsyntax-only against `include`; exits 1 on a failure. */
async function checkHeaders(include) {
  if (!exists(path.join(include, 'ATen', 'ATen.h'))) {
    console.error(`build-torch --check-headers: ${include} has no ATen/ATen.h`);
    process.exit(2);
  }
  const version = torchVersion(include);
  // The C++11 ABI of Debian's libtorch and of the torch 2.x wheels (a check has no library to read it from).
  const flags = compilerFlags({ include, abi: 1 }, version, nodeInclude());
  const sources = sourceFiles();
  const results = new Map();
  await onEveryCore(sources, async (s) => results.set(s, await run('g++', [...flags, '-fsyntax-only', path.join(srcDir, s)])));
  const failed = sources.filter((s) => results.get(s).status !== 0);
  for (const s of sources) {
    const { status, err } = results.get(s);
    const warnings = (err.match(/warning:/g) || []).length;
    console.log(`${s}: ${status === 0 ? 'ok' : 'FAILED'}${warnings ? ` (${warnings} warnings)` : ''}`);
    if (status !== 0 || warnings) process.stdout.write(err);
  }
  console.log(`libtorch ${version.major}.${version.minor} headers (${include}): ${sources.length - failed.length} of ${sources.length} sources compile`);
  process.exit(failed.length ? 1 : 0);
}

if (require.main !== module) module.exports = { systemInputs };
else if (process.argv[2] === '--check-headers') {
  if (!process.argv[3]) {
    console.error('usage: node scripts/build-torch.js --check-headers INCLUDE_DIR');
    process.exit(2);
  }
  checkHeaders(path.resolve(process.argv[3])).catch((e) => {
    console.error(`build-torch --check-headers: ${e.message}`);
    process.exit(2);
  });
} else main().catch((e) => reportSkip(e, { tag: 'dlcv-torch', outFile, skipFile, consequence: 'the libtorch engine is unavailable.' }));
