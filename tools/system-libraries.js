#!/usr/bin/env node
// The fingerprint of what outside the repository decides the native addons' builds: the system
// libraries and headers each build script looks for (its exported `systemInputs()`), Node's
// headers, the C++ compiler and Node's version. turbo hashes only the repository's files and the
// variables turbo.json names, so without this a build cached while libdlib-dev (or libdnnl-dev,
// libtorch-dev, a torch wheel) was missing would be replayed, "not built", after installing it.
// tools/turbo.js passes the fingerprint to turbo as DLCV_SYSTEM_LIBRARIES, which the build
// task's hash includes.
//
// A build script is any `scripts/build-*.js` that a workspace package's scripts run; one that
// exports no systemInputs() is an error here, so a new addon's build cannot be left out.
//
// `node tools/system-libraries.js` prints every input with its stamp, then the fingerprint.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const BUILD_SCRIPT = /(?:^|[\s/])(scripts\/build-[\w-]+\.js)\b/g;

/** The absolute paths of the addon build scripts that the packages under packages/ run. */
function buildScripts(repoRoot = root) {
  const packagesDir = path.join(repoRoot, 'packages');
  const found = new Set();
  for (const name of fs.readdirSync(packagesDir).sort()) {
    const manifest = path.join(packagesDir, name, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const scripts = JSON.parse(fs.readFileSync(manifest, 'utf8')).scripts || {};
    for (const command of Object.values(scripts)) for (const match of String(command).matchAll(BUILD_SCRIPT)) found.add(path.join(packagesDir, name, match[1]));
  }
  return [...found];
}

/** The file `command` names on PATH (or itself when it holds a slash), or undefined. */
function onPath(command) {
  if (command.includes('/')) return path.resolve(command);
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  return dirs.map((d) => path.join(d, command)).find((p) => fs.existsSync(p));
}

/** `path`, and where it leads, its size and modification time; or that it is absent. */
function stamp(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return `${file} absent`;
  }
  return `${file} -> ${fs.realpathSync(file)} ${stat.size} ${Math.round(stat.mtimeMs)}`;
}

/** Every input with its stamp, and their sha256 (16 hex digits). */
function systemFingerprint(repoRoot = root) {
  const { nodeIncludeDirs } = require(path.join(repoRoot, 'packages', 'core', 'scripts', 'addon-build.js'));
  const lines = [`node ${process.version}`];
  const compiler = process.env.CXX || 'g++';
  const compilerFile = onPath(compiler);
  lines.push(compilerFile ? `compiler ${compiler}: ${stamp(compilerFile)}` : `compiler ${compiler}: not on PATH`);
  const files = nodeIncludeDirs().map((d) => path.join(d, 'node_api.h'));
  for (const script of buildScripts(repoRoot)) {
    const { systemInputs } = require(script);
    if (typeof systemInputs !== 'function') throw new Error(`${path.relative(repoRoot, script)} builds an addon but exports no systemInputs() (see tools/system-libraries.js)`);
    files.push(...systemInputs());
  }
  lines.push(...[...new Set(files)].map(stamp));
  const hash = crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
  return { lines, hash };
}

if (require.main === module) {
  const { lines, hash } = systemFingerprint();
  console.log(lines.join('\n'));
  console.log(`DLCV_SYSTEM_LIBRARIES=${hash}`);
}

module.exports = { buildScripts, systemFingerprint };
