/* global describe, test, expect, beforeEach, afterEach */
// tools/system-libraries.js and tools/turbo.js: the fingerprint follows what each addon build
// looks for outside the repository, and turbo's build hash follows the fingerprint, so a system
// library installed after a build re-runs that build instead of replaying its cached "not built".
// The build scripts' own search variables (DLIB_ROOT, TORCH_DIR, DNNL_ROOT) point them at
// temporary folders, where the test installs files.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { buildScripts, systemFingerprint } = require('../system-libraries');

const root = path.resolve(__dirname, '..', '..');
const SEARCH_VARIABLES = ['DLIB_ROOT', 'TORCH_DIR', 'DNNL_ROOT'];

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

let dir;
let saved;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlcv-system-libraries-'));
  saved = Object.fromEntries(SEARCH_VARIABLES.map((v) => [v, process.env[v]]));
});
afterEach(() => {
  for (const [v, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[v];
    else process.env[v] = value;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('system-libraries', () => {
  test('finds the addon build scripts that the packages run', () => {
    expect(buildScripts().map((s) => path.relative(root, s))).toEqual([
      'packages/core/scripts/build-native.js',
      'packages/core/scripts/build-torch.js',
      'packages/eval/scripts/build-dlib.js',
    ]);
  });

  test.each([
    ['dlib', 'DLIB_ROOT', ['include/dlib/image_processing/frontal_face_detector.h', 'lib/libdlib.so']],
    ['libtorch', 'TORCH_DIR', ['include/ATen/ATen.h', 'lib/libtorch_cpu.so', 'lib/libc10.so']],
    ['oneDNN', 'DNNL_ROOT', ['include/oneapi/dnnl/dnnl.hpp']],
  ])('%s: each file its build looks for under $%s changes the fingerprint when it appears or changes', (_, variable, files) => {
    process.env[variable] = dir;
    const seen = new Set([systemFingerprint().hash]);
    for (const file of files) {
      write(path.join(dir, file), 'v1');
      seen.add(systemFingerprint().hash);
      write(path.join(dir, file), 'version 2');
      seen.add(systemFingerprint().hash);
    }
    expect(seen.size).toBe(1 + 2 * files.length);
    // nothing changed: the same fingerprint
    expect(systemFingerprint().hash).toBe(systemFingerprint().hash);
    expect(systemFingerprint().lines).toContain(
      `${path.join(dir, files[0])} -> ${path.join(fs.realpathSync(dir), files[0])} 9 ${Math.round(fs.statSync(path.join(dir, files[0])).mtimeMs)}`,
    );
  });

  test('a build script that exports no systemInputs() is an error naming it', () => {
    fs.cpSync(path.join(root, 'packages', 'core', 'scripts', 'addon-build.js'), path.join(dir, 'packages', 'core', 'scripts', 'addon-build.js'));
    write(path.join(dir, 'packages', 'x', 'package.json'), JSON.stringify({ scripts: { build: 'tsc && node scripts/build-thing.js' } }));
    write(path.join(dir, 'packages', 'x', 'scripts', 'build-thing.js'), 'module.exports = {};\n');
    expect(() => systemFingerprint(dir)).toThrow('packages/x/scripts/build-thing.js builds an addon but exports no systemInputs()');
  });
});

describe('tools/turbo.js', () => {
  /** turbo's hash of @dlcv/eval's build, through tools/turbo.js, with DLIB_ROOT at the test's folder. */
  function evalBuildHash() {
    const r = spawnSync(process.execPath, [path.join(root, 'tools', 'turbo.js'), 'run', 'build', '--dry=json', '--filter=@dlcv/eval'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DLIB_ROOT: dir, TURBO_TELEMETRY_DISABLED: '1' },
    });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout).tasks.find((t) => t.taskId === '@dlcv/eval#build').hash;
  }

  test("installing dlib's files changes the build's hash; nothing changed, the same hash", () => {
    const before = evalBuildHash();
    expect(evalBuildHash()).toBe(before);
    write(path.join(dir, 'include', 'dlib', 'image_processing', 'frontal_face_detector.h'), '// dlib');
    expect(evalBuildHash()).not.toBe(before);
  });

  test("exits with turbo's status", () => {
    const r = spawnSync(process.execPath, [path.join(root, 'tools', 'turbo.js'), 'run', 'no-such-task'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/no-such-task/);
  });
});
