// What the optional addons built with g++ share (core's libtorch engine, scripts/build-torch.js;
// eval's dlib face detector, packages/eval/scripts/build-dlib.js): a build that cannot proceed
// throws Skip with one line saying why, and `reportSkip` prints that line and leaves it in the
// addon's skipped.txt, which the code that loads the addon repeats; the build never fails the
// surrounding one.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

class Skip extends Error {}

function skip(reason) {
  throw new Skip(reason);
}

/** Where node_api.h is looked for, in order: $DLCV_NODE_INCLUDE, beside the node binary, the system's. */
function nodeIncludeDirs() {
  const execPrefix = path.resolve(path.dirname(process.execPath), '..');
  return [process.env.DLCV_NODE_INCLUDE, path.join(execPrefix, 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].filter(Boolean);
}

/** The first folder of nodeIncludeDirs() holding node_api.h. */
function nodeInclude() {
  const dir = nodeIncludeDirs().find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!dir) skip('Node headers (node_api.h) not found (set DLCV_NODE_INCLUDE)');
  return dir;
}

/** Loads the addon `file` in a child process and returns its info() as JSON (a broken link is reported here, not at run time). */
function loadCheck(file) {
  const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(file)}).info()))`], { encoding: 'utf8' });
  if (check.status !== 0) {
    fs.rmSync(file, { force: true });
    skip(`built but cannot be loaded: ${(check.stderr || '').split('\n').find((l) => l.trim()) || 'unknown error'}`);
  }
  return check.stdout.trim();
}

/**
 * For a build that threw `error`: prints `<tag>: not built (<reason>); <consequence>`, removes
 * `outFile` (an old build) and writes the reason to `skipFile`.
 */
function reportSkip(error, { tag, outFile, skipFile, consequence }) {
  const reason = error instanceof Skip ? error.message : `unexpected error: ${error && error.message ? error.message : error}`;
  console.log(`${tag}: not built (${reason}); ${consequence}`);
  fs.mkdirSync(path.dirname(skipFile), { recursive: true });
  fs.rmSync(outFile, { force: true });
  fs.writeFileSync(skipFile, `${reason}\n`);
}

module.exports = { Skip, skip, nodeIncludeDirs, nodeInclude, loadCheck, reportSkip };
