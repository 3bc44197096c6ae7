// core's `build-torch.js --check-headers DIR`, which torch-headers-check.sh runs on each Debian
// libtorch-dev it unpacks: bad arguments stop it with status 2, and a source that does not compile
// against the headers fails it with status 1, named with g++'s error. (The passing case needs a
// real libtorch's headers; torch-headers-check.sh is that check.)
/* global describe, test, expect, beforeAll, afterAll */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const script = path.join(root, 'packages', 'core', 'scripts', 'build-torch.js');
const sources = fs.readdirSync(path.join(root, 'packages', 'core', 'native-torch', 'src')).filter((f) => f.endsWith('.cc'));
const hasGpp = spawnSync('g++', ['--version']).status === 0;

function check(args, env = {}) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('build-torch.js --check-headers', () => {
  let dir;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-headers-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('without a folder it prints its usage and exits 2', () => {
    const r = check(['--check-headers']);
    expect(r.status).toBe(2);
    expect(r.out).toContain('usage: node scripts/build-torch.js --check-headers INCLUDE_DIR');
  });

  test('a folder without ATen/ATen.h is named, exit 2', () => {
    const r = check(['--check-headers', dir]);
    expect(r.status).toBe(2);
    expect(r.out).toContain(`${dir} has no ATen/ATen.h`);
  });

  (hasGpp ? test : test.skip)('headers the sources do not compile against fail every source, exit 1', () => {
    // A libtorch 2.99 whose ATen.h stops the compiler; an empty node_api.h stands in for node's.
    const include = path.join(dir, 'include');
    fs.mkdirSync(path.join(include, 'ATen'), { recursive: true });
    fs.mkdirSync(path.join(include, 'torch', 'headeronly'), { recursive: true });
    fs.writeFileSync(path.join(include, 'ATen', 'ATen.h'), '#error this libtorch has no ATen\n');
    fs.writeFileSync(path.join(include, 'torch', 'headeronly', 'version.h'), '#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 99\n');
    const node = path.join(dir, 'node');
    fs.mkdirSync(node);
    fs.writeFileSync(path.join(node, 'node_api.h'), '');
    const r = check(['--check-headers', include], { DLCV_NODE_INCLUDE: node });
    expect(r.status).toBe(1);
    for (const s of sources) expect(r.out).toContain(`${s}: FAILED`);
    expect(r.out).toContain('#error this libtorch has no ATen');
    expect(r.out).toContain(`libtorch 2.99 headers (${include}): 0 of ${sources.length} sources compile`);
  });
});
