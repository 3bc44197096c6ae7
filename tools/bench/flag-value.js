// The value after `--name` on the command line, or `fallback` when the flag is absent: the flag
// reader of the bench scripts (bench.js and host-time.js also take bare flags, read directly).
'use strict';

function flagValue(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

module.exports = { flagValue };
