/* global describe, test, expect */
// The pnpm commands the READMEs and the packages' hw2 scripts tell a user to run name what exists:
// `pnpm --filter <package> <script>` a workspace package (its scope may be left out, as pnpm
// allows) and one of its scripts; `pnpm --filter <package> exec <command>` a command that pnpm
// finds (a bin in the package's or the workspace root's node_modules/.bin: pnpm does not link a
// package's own bin there); `pnpm <script>` one of the root's scripts.
// The packages' CLIs called directly there (`dlcv-ddpm sample ...`, `node bin/dlcv-ddpm.js
// sample ...`) name their commands, and the flags any of these commands is given are ones its
// --help lists.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Workspace packages by name: { dir, scripts } (scripts: package.json's, name to command line). */
function workspacePackages() {
  const dirs = [...fs.readdirSync(path.join(root, 'packages')).map((d) => path.join(root, 'packages', d)), path.join(root, 'tools')];
  const byName = new Map();
  for (const dir of dirs) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = readJson(file);
    byName.set(pkg.name, { dir, scripts: pkg.scripts ?? {} });
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

/** Each match of `pattern` (a global regex) in a document's lines: { file, line, match }. */
function matchesIn(file, pattern) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, i) => [...text.matchAll(pattern)].map((match) => ({ file: path.relative(root, file), line: i + 1, match })));
}

/** Every command a document gives, as { file, line, words } (the words after `pnpm`). */
const commandsIn = (file) => matchesIn(file, /(?<![\w./-])pnpm((?: +[^\s`'"|&;)]+)+)/g).map(({ match, ...at }) => ({ ...at, words: match[1].trim().split(/ +/) }));

/** The package a filter names (its scope may be left out, as pnpm allows). */
const packageNamed = (packages, name) => packages.get(name) ?? packages.get(`@dlcv/${name}`);
const hasScript = (pkg, name) => Object.hasOwn(pkg.scripts, name);

/** What is wrong with one command, or null. */
function problemOf({ words }, packages, rootScripts) {
  if (words[0] !== '--filter') {
    const [cmd] = words;
    if (PNPM_COMMANDS.has(cmd) || cmd.startsWith('-') || /^\d/.test(cmd)) return null;
    return Object.hasOwn(rootScripts, cmd) ? null : `the root has no script "${cmd}"`;
  }
  const [, name, cmd, arg] = words;
  if (!name || name.startsWith('<') || !cmd || cmd.startsWith('<')) return null; // a placeholder
  const pkg = packageNamed(packages, name);
  if (!pkg) return `no workspace package "${name}"`;
  if (cmd === 'exec') {
    if (!arg) return 'exec without a command';
    const bins = [pkg.dir, root].map((dir) => path.join(dir, 'node_modules', '.bin'));
    return bins.some((dir) => fs.existsSync(path.join(dir, arg))) ? null : `"${arg}" is in neither ${bins.map((dir) => path.relative(root, dir)).join(' nor ')}`;
  }
  if (cmd === 'run') return arg && hasScript(pkg, arg) ? null : `${name} has no script "${arg}"`;
  return hasScript(pkg, cmd) ? null : `${name} has no script "${cmd}"`;
}

/** `<cli> <command> --help` run in a package's folder: { status, text }, cached. */
const helpTexts = new Map();
function cliHelp(dir, cli, command) {
  const key = `${dir} ${cli} ${command}`;
  if (!helpTexts.has(key)) {
    const r = spawnSync(process.execPath, [cli, command, '--help'], { cwd: dir, encoding: 'utf8', timeout: 60000 });
    helpTexts.set(key, { status: r.status, text: `${r.stdout}${r.stderr}` });
  }
  return helpTexts.get(key);
}

/** The --help text of the command a package script runs (`node bin/<cli>.js <command>`), or null for a script of another kind. */
function helpOf(pkg, script) {
  const line = hasScript(pkg, script) ? pkg.scripts[script] : '';
  const m = /^node (bin\/[\w-]+\.js) ([\w-]+)$/.exec(line);
  if (!m) return null;
  const { status, text } = cliHelp(pkg.dir, m[1], m[2]);
  if (status !== 0) throw new Error(`${path.relative(root, pkg.dir)}: ${line} --help exited ${status}: ${text}`);
  return text;
}

/** The flags among `args` that `help` does not list. */
const flagsNotIn = (help, args) => args.map((a) => a.replace(/^\[+/, '').split(/[=\]]/)[0]).filter((a) => /^--[a-z]/.test(a) && !new RegExp(`${a}(?![\\w-])`).test(help));

/** The flags of a `pnpm --filter <package> <script> ...` command that its --help does not list. */
function unknownFlags({ words }, packages) {
  const [, name, script, ...args] = words;
  const pkg = packageNamed(packages, name);
  const help = pkg && helpOf(pkg, script);
  return help ? flagsNotIn(help, args) : [];
}

/** The packages' CLIs called directly in a document: { file, line, pkg, command, args }. */
const cliCallsIn = (file) =>
  matchesIn(file, /(?<![\w-])(?:[\w./-]*bin\/)?dlcv-(core|gan|ddpm|dann|eval)(?:\.js)? ([a-z][\w-]*)((?: +[^\s`'"|&;)]+)*)/g).map(({ match, ...at }) => ({
    ...at,
    pkg: match[1],
    command: match[2],
    args: match[3].trim().split(/ +/),
  }));

/** What is wrong with a direct CLI call: an unknown command, or flags its --help does not list. */
function cliCallProblem({ pkg, command, args }) {
  const dir = path.join(root, 'packages', pkg);
  const { status, text } = cliHelp(dir, `bin/dlcv-${pkg}.js`, command);
  if (status !== 0) return `dlcv-${pkg} ${command} --help exited ${status}: ${text.split('\n')[0]}`;
  const unknown = flagsNotIn(text, args);
  return unknown.length ? `${unknown.join(', ')} not in its --help` : null;
}

describe('the pnpm commands in the READMEs and hw2 scripts', () => {
  const packages = workspacePackages();
  const rootScripts = readJson(path.join(root, 'package.json')).scripts;
  const commands = documents().flatMap(commandsIn);

  test('name existing packages, scripts and commands', () => {
    expect(commands.length).toBeGreaterThan(10);
    const problems = commands.map((c) => [c, problemOf(c, packages, rootScripts)]).filter(([, p]) => p);
    expect(problems.map(([c, p]) => `${c.file}:${c.line}: pnpm ${c.words.join(' ')}: ${p}`)).toEqual([]);
  });

  test("give the flags their commands' --help lists", () => {
    const scriptCommands = commands.filter((c) => c.words[0] === '--filter' && !['exec', 'run'].includes(c.words[2]) && !problemOf(c, packages, rootScripts));
    const withFlags = scriptCommands.filter((c) => c.words.some((w) => w.startsWith('--') && w !== '--filter'));
    expect(withFlags.length).toBeGreaterThan(5);
    const problems = scriptCommands.flatMap((c) => unknownFlags(c, packages).map((f) => `${c.file}:${c.line}: pnpm ${c.words.join(' ')}: ${f} is not in its --help`));
    expect(problems).toEqual([]);
    expect(unknownFlags({ words: ['--filter', 'ddpm', 'sample', 'out', '--batch', '8', '--wieght', '2'] }, packages)).toEqual(['--wieght']);
  });

  test('call the CLIs with their commands and flags', () => {
    const calls = documents().flatMap(cliCallsIn);
    expect(calls.length).toBeGreaterThan(5);
    const problems = calls.map((c) => [c, cliCallProblem(c)]).filter(([, p]) => p);
    expect(problems.map(([c, p]) => `${c.file}:${c.line}: dlcv-${c.pkg} ${c.command} ${c.args.join(' ')}: ${p}`)).toEqual([]);
    expect(cliCallProblem({ pkg: 'ddpm', command: 'sampel', args: [] })).toMatch(/^dlcv-ddpm sampel --help exited [1-9]/);
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
