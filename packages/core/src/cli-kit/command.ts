/**
 * The frame of every package's CLI: subcommands one per file, each declaring typed flags and
 * positionals from which its usage and help are generated; `--help`, `--version`; the engine
 * line printed once at start; errors printed as one line naming the command (an out-of-memory
 * error adds a line naming the batch flags: out-of-memory.ts), exit code 2 for usage errors and 1
 * for the rest.
 */
import { parseArgs } from 'node:util';
import { describeEngine, ENGINE_NAMES, setupEngine, type EngineInfo } from '../engine/engine';
import { InterruptedError } from '../run/interrupt';
import { helpLines, parseFlags, string as stringFlag, usageFlags, UsageError, type FlagSpecs, type FlagValues } from './flags';
import { outOfMemoryHint } from './out-of-memory';
import { userPath } from './paths';

export interface PositionalSpec {
  /** As shown in usage lines: `out_dir`, `pred.csv`. */
  name: string;
  help: string;
  optional?: boolean;
  /** Resolve it as a path the user typed (paths.ts). */
  path?: boolean;
  /** The last positional only: takes every remaining argument (one or more; none when optional). */
  variadic?: boolean;
}

export interface CommandSpec<F extends FlagSpecs> {
  name: string;
  summary: string;
  flags: F;
  positionals?: readonly PositionalSpec[];
  /** Further usage forms, printed under the generated one. */
  moreUsage?: readonly string[];
  /** False for commands that do no tensor work (no engine set up, no engine line). */
  needsEngine?: boolean;
  run(args: { flags: FlagValues<F>; positionals: string[]; engine?: EngineInfo }): Promise<void>;
}

/** A command with its flag types erased, as runCli holds it. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  help: string;
  needsEngine: boolean;
  invoke(argv: string[]): Promise<void>;
}

const ENGINE_FLAG = {
  engine: stringFlag({ help: `engine (backend) to run on: ${ENGINE_NAMES.join(', ')}; default: the best that loads`, metavar: 'NAME' }),
};

function positionalUsage(p: PositionalSpec): string {
  const name = `<${p.name}>${p.variadic ? '...' : ''}`;
  return p.optional ? `[${name}]` : name;
}

function checkPositionals(specs: readonly PositionalSpec[], given: string[]): string[] {
  const required = specs.filter((p) => !p.optional).length;
  const most = specs[specs.length - 1]?.variadic ? Infinity : specs.length;
  if (given.length < required || given.length > most) {
    const want = specs.map(positionalUsage).join(' ') || 'no arguments';
    throw new UsageError(`expected ${want}, got ${given.length} argument${given.length === 1 ? '' : 's'}${given.length ? ` (${given.join(' ')})` : ''}`);
  }
  return given.map((v, i) => ((specs[i] ?? specs[specs.length - 1])?.path ? userPath(v) : v));
}

export function defineCommand<F extends FlagSpecs>(spec: CommandSpec<F>): Command {
  const needsEngine = spec.needsEngine !== false;
  const flags: FlagSpecs = needsEngine ? { ...spec.flags, ...ENGINE_FLAG } : spec.flags;
  const positionals = spec.positionals ?? [];
  const usage = [[spec.name, ...positionals.map(positionalUsage), usageFlags(flags)].filter(Boolean).join(' '), ...(spec.moreUsage ?? [])].join('\n       ');
  const help = [
    spec.summary,
    ...(positionals.length ? ['', 'arguments:', ...positionals.map((p) => `  ${p.name.padEnd(16)}  ${p.help}`)] : []),
    ...(Object.keys(flags).length ? ['', 'flags:', ...helpLines(flags)] : []),
  ].join('\n');
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    help,
    needsEngine,
    async invoke(argv) {
      const parseSpec = Object.fromEntries(Object.entries(flags).map(([k, f]) => [k, { type: f.type }]));
      const { values, positionals: given } = parseArgs({ args: argv, options: parseSpec, allowPositionals: true, strict: true });
      const parsed = parseFlags(flags, values as Record<string, string | boolean | undefined>);
      const args = checkPositionals(positionals, given);
      let engine: EngineInfo | undefined;
      if (needsEngine) {
        engine = await setupEngine({ engine: parsed.engine as string | undefined });
        console.log(describeEngine(engine));
      }
      try {
        await spec.run({ flags: parsed as FlagValues<F>, positionals: args, engine });
      } catch (err) {
        // the error keeps its class, code and stack; its message gains the hint's line
        const hint = err instanceof Error ? outOfMemoryHint(err.message, flags, parsed) : null;
        if (hint) (err as Error).message += `\n${hint}`;
        throw err;
      }
    },
  };
}

function helpText(program: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `usage: ${program} <command> [flags]`,
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `${program} <command> --help for its flags; ${program} --version`,
  ].join('\n');
}

export interface ProgramInfo {
  name: string;
  version: string;
}

/** Runs a CLI; returns the exit code (the bin shims pass it to process.exitCode). */
export async function runCli(program: ProgramInfo, commands: Command[], argv: string[] = process.argv.slice(2)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(`${program.name} ${program.version}`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText(program.name, commands));
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`${program.name}: unknown command "${name}"\n\n${helpText(program.name, commands)}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${program.name} ${command.usage}\n\n${command.help}`);
    return 0;
  }
  try {
    await command.invoke(rest);
    return 0;
  } catch (err) {
    if (err instanceof InterruptedError) {
      console.error(`${program.name} ${command.name}: ${err.message}`);
      return err.exitCode;
    }
    const e = err as Error & { code?: string };
    // parseArgs errors (unknown flag, missing value) are usage errors too.
    const usage = err instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
    console.error(`${program.name} ${command.name}: ${e.message}${usage ? `\nusage: ${program.name} ${command.usage}` : ''}`);
    if (process.env.DLCV_DEBUG) console.error(e.stack);
    return usage ? 2 : 1;
  }
}
