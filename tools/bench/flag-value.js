// The value after `--name` on the command line, or `fallback` when the flag is absent: the flag
// reader of the bench scripts (bench.js and host-time.js also take bare flags, read directly),
// and its positive-integer form.
'use strict';

function flagValue(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/**
 * The positive integer of flag `name` (or `fallback`), read by `read` (flagValue unless the
 * script has its own reader); an error naming `tool` and the flag for anything else.
 */
function positiveIntFlag(tool, name, fallback, read = flagValue) {
  const raw = read(name, fallback);
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${tool}: --${name} must be a positive integer, got ${raw}`);
  return v;
}

module.exports = { flagValue, positiveIntFlag };
