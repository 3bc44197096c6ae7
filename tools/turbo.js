#!/usr/bin/env node
// Runs the repository's turbo with DLCV_SYSTEM_LIBRARIES set to the fingerprint of the system
// libraries that the native addons build against (tools/system-libraries.js), so that installing
// or upgrading one of them re-runs the builds that turbo would otherwise replay from its cache.
// The root package.json's scripts (`pnpm build`, `pnpm test`, ...) run turbo through this file;
// its arguments are turbo's, and its exit status is turbo's.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { systemFingerprint } = require('./system-libraries');

const root = path.resolve(__dirname, '..');
const turbo = path.join(root, 'node_modules', '.bin', 'turbo');
if (!fs.existsSync(turbo)) {
  console.error(`tools/turbo.js: ${path.relative(process.cwd(), turbo) || turbo} not found: install the dependencies first (./setup.sh, or pnpm install)`);
  process.exit(1);
}

const child = spawn(turbo, process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, DLCV_SYSTEM_LIBRARIES: systemFingerprint().hash } });
// Ctrl-C reaches turbo through the terminal's process group, so this process only waits for it to
// stop; SIGTERM and SIGHUP sent to this process are passed on. It then exits as turbo did.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (e) => {
  console.error(`tools/turbo.js: cannot run ${turbo}: ${e.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
