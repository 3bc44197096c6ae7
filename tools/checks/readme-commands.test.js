/* global describe, test, expect */
// The pnpm commands the READMEs and the packages' hw2 scripts tell a user to run name what exists:
// `pnpm --filter <package> <script>` a workspace package (its scope may be left out, as pnpm
// allows) and one of its scripts; `pnpm --filter <package> exec <command>` a command that pnpm
// finds (a bin in the package's or the workspace root's node_modules/.bin: pnpm does not link a
// package's own bin there); `pnpm <script>` one of the root's scripts.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Workspace packages by name: { dir, scripts }. */
function workspacePackages() {
  const dirs = [...fs.readdirSync(path.join(root, 'packages')).map((d) => path.join(root, 'packages', d)), path.join(root, 'tools')];
  const byName = new Map();
  for (const dir of dirs) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = readJson(file);
    byName.set(pkg.name, { dir, scripts: Object.keys(pkg.scripts ?? {}) });
  }
  return byName;
}

/** The documents that give commands: the READMEs and the hw2 entry scripts. */
function documents() {
  const files = [path.join(root, 'README.md')];
  for (const d of fs.readdirSync(path.join(root, 'packages'))) {
    const readme = path.join(root, 'packages', d, 'README.md');
    if (fs.existsSync(readme)) files.push(readme);
    const scripts = path.join(root, 'packages', d, 'scripts');
    if (fs.existsSync(scripts)) for (const f of fs.readdirSync(scripts)) if (f.endsWith('.sh')) files.push(path.join(scripts, f));
  }
  return files;
}

// pnpm's own commands that may follow `pnpm` (the rest are the root's scripts).
const PNPM_COMMANDS = new Set(['install', 'i', 'add', 'exec', 'run', 'dlx', 'why', 'list', 'ls', 'store', 'rebuild', 'update', 'up', 'remove', 'publish', 'setup', 'version']);

/** Every command a document gives, as { file, line, words } (the words after `pnpm`). */
function commandsIn(file) {
  const out = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/(?<![\w./-])pnpm((?: +[^\s`'"|&;)]+)+)/g)) out.push({ file: path.relative(root, file), line: i + 1, words: m[1].trim().split(/ +/) });
    });
  return out;
}

/** What is wrong with one command, or null. */
function problemOf({ words }, packages, rootScripts) {
  if (words[0] !== '--filter') {
    const [cmd] = words;
    if (PNPM_COMMANDS.has(cmd) || cmd.startsWith('-') || /^\d/.test(cmd)) return null;
    return rootScripts.includes(cmd) ? null : `the root has no script "${cmd}"`;
  }
  const [, name, cmd, arg] = words;
  if (!name || name.startsWith('<') || !cmd || cmd.startsWith('<')) return null; // a placeholder
  const pkg = packages.get(name) ?? packages.get(`@dlcv/${name}`);
  if (!pkg) return `no workspace package "${name}"`;
  if (cmd === 'exec') {
    if (!arg) return 'exec without a command';
    const bins = [pkg.dir, root].map((dir) => path.join(dir, 'node_modules', '.bin'));
    return bins.some((dir) => fs.existsSync(path.join(dir, arg))) ? null : `"${arg}" is in neither ${bins.map((dir) => path.relative(root, dir)).join(' nor ')}`;
  }
  if (cmd === 'run') return arg && pkg.scripts.includes(arg) ? null : `${name} has no script "${arg}"`;
  return pkg.scripts.includes(cmd) ? null : `${name} has no script "${cmd}"`;
}

describe('the pnpm commands in the READMEs and hw2 scripts', () => {
  const packages = workspacePackages();
  const rootScripts = Object.keys(readJson(path.join(root, 'package.json')).scripts);
  const commands = documents().flatMap(commandsIn);

  test('name existing packages, scripts and commands', () => {
    expect(commands.length).toBeGreaterThan(10);
    const problems = commands.map((c) => [c, problemOf(c, packages, rootScripts)]).filter(([, p]) => p);
    expect(problems.map(([c, p]) => `${c.file}:${c.line}: pnpm ${c.words.join(' ')}: ${p}`)).toEqual([]);
  });

  test('the check finds a package own bin run through exec, an unknown script and an unknown package', () => {
    const check = (line) => problemOf({ words: line.split(' ') }, packages, rootScripts);
    expect(check('--filter @dlcv/core exec dlcv-core info')).toBe('"dlcv-core" is in neither packages/core/node_modules/.bin nor node_modules/.bin');
    expect(check('--filter @dlcv/core exec jest')).toBeNull();
    expect(check('--filter ddpm train')).toBeNull();
    expect(check('--filter ddpm sampel')).toBe('ddpm has no script "sampel"');
    expect(check('--filter @dlcv/nope train')).toBe('no workspace package "@dlcv/nope"');
    expect(check('dmeo')).toBe('the root has no script "dmeo"');
    expect(check('demo')).toBeNull();
  });
});
