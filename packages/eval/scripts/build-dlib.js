#!/usr/bin/env node
// Builds the face grader's dlib detector (packages/eval/native-dlib, N-API over Debian's
// libdlib-dev: the HOG frontal face detector the assignment's grader runs) with g++ into
// packages/eval/build/Release/dlcv_dlib.node.
// It never fails the surrounding build: when it cannot build, it prints one line saying why,
// writes that line to build/Release/dlcv_dlib.skipped.txt (the face grader repeats it when it
// falls back to face-api) and exits 0. Required as a module it builds nothing and exports
// `dlibCompileFlags()`, which the tests' reference program is built with, and `systemInputs()`.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
// core's shared pieces of an optional addon's build (Skip and its report, node's headers, the load check)
const { skip, nodeInclude, loadCheck, reportSkip } = require(path.join(path.dirname(require.resolve('@dlcv/core/package.json')), 'scripts', 'addon-build.js'));

const pkgDir = path.resolve(__dirname, '..');
const source = path.join(pkgDir, 'native-dlib', 'face_detector.cc');
const outDir = path.join(pkgDir, 'build', 'Release');
const outFile = path.join(outDir, 'dlcv_dlib.node');
const skipFile = path.join(outDir, 'dlcv_dlib.skipped.txt');
const HEADER = path.join('dlib', 'image_processing', 'frontal_face_detector.h');

const firstExisting = (paths) => paths.find((p) => p && fs.existsSync(p));

const dlibRoots = () => (process.env.DLIB_ROOT ? [path.resolve(process.env.DLIB_ROOT)] : ['/usr', '/usr/local']);
const libDirsOf = (root) => [path.join(root, 'lib'), path.join(root, 'lib', 'x86_64-linux-gnu'), path.join(root, 'lib', 'aarch64-linux-gnu'), path.join(root, 'lib64')];
const LINEAR_ALGEBRA = ['liblapack.so.3', 'libblas.so.3'];
const LINEAR_ALGEBRA_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu'];

/** The files outside the repository whose presence and version decide this build (tools/system-libraries.js). */
function systemInputs() {
  const inRoots = dlibRoots().flatMap((root) => [
    path.join(root, 'include', HEADER),
    ...libDirsOf(root).flatMap((d) => [path.join(d, 'libdlib.so'), ...LINEAR_ALGEBRA.map((name) => path.join(d, name))]),
  ]);
  return [...inRoots, ...LINEAR_ALGEBRA_DIRS.flatMap((d) => LINEAR_ALGEBRA.map((name) => path.join(d, name)))];
}

/** -I and -L folders of dlib: $DLIB_ROOT (include/, lib/), else the system's. */
function findDlib() {
  const root = dlibRoots().find((r) => fs.existsSync(path.join(r, 'include', HEADER)));
  if (!root)
    skip(
      `${HEADER} not found${process.env.DLIB_ROOT ? ` under DLIB_ROOT=${process.env.DLIB_ROOT}/include` : ''}: install libdlib-dev (Debian/Ubuntu: apt-get install -y libdlib-dev), then run pnpm --filter @dlcv/eval build:dlib`,
    );
  const lib = libDirsOf(root).find((d) => fs.existsSync(path.join(d, 'libdlib.so')));
  if (!lib) skip(`libdlib.so not found beside ${path.join(root, 'include')}: install libdlib-dev`);
  // dlib's headers call LAPACK and BLAS themselves (its config.h sets DLIB_USE_LAPACK); Debian's
  // libdlib-dev links them by soname, with no libblas.so / liblapack.so development links.
  const linear = LINEAR_ALGEBRA.filter((name) => firstExisting([lib, ...LINEAR_ALGEBRA_DIRS].map((d) => path.join(d, name))));
  return { include: path.join(root, 'include'), lib, libs: ['-ldlib', ...linear.map((name) => `-l:${name}`)] };
}

/** g++'s flags for a program or library that uses dlib: the include folder, then the libraries (after the sources). */
function dlibCompileFlags() {
  const dlib = findDlib();
  return { include: [`-I${dlib.include}`], link: [`-L${dlib.lib}`, ...dlib.libs] };
}

function build() {
  if (process.env.DLCV_SKIP_DLIB === '1') skip('DLCV_SKIP_DLIB=1');
  if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported yet`);
  const flags = dlibCompileFlags();
  const args = ['-O2', '-std=c++17', '-shared', '-fPIC', `-I${nodeInclude()}`, ...flags.include, source, '-o', `${outFile}.tmp`, ...flags.link];
  const t0 = Date.now();
  fs.mkdirSync(outDir, { recursive: true });
  const r = spawnSync(process.env.CXX || 'g++', args, { encoding: 'utf8' });
  if (r.error) skip(`${process.env.CXX || 'g++'} could not run: ${r.error.message}`);
  if (r.status !== 0) {
    const line = (r.stderr || '').split('\n').find((l) => /error/i.test(l)) || `g++ exited with ${r.status}`;
    skip(`compile failed: ${line.trim().slice(0, 300)}`);
  }
  // Rename into place: a process that has the old addon loaded keeps its (unlinked) file intact.
  fs.renameSync(`${outFile}.tmp`, outFile);
  const info = loadCheck(outFile);
  fs.rmSync(skipFile, { force: true });
  console.log(`dlcv-dlib: built ${path.relative(process.cwd(), outFile)} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${info})`);
}

function main() {
  try {
    build();
  } catch (e) {
    reportSkip(e, { tag: 'dlcv-dlib', outFile, skipFile, consequence: "the face grader will use face-api's TinyFaceDetector instead of the assignment's dlib HOG detector." });
  }
}

if (require.main === module) main();
module.exports = { dlibCompileFlags, systemInputs };
