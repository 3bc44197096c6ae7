/**
 * The small shared frame of every package's CLI: subcommands one per file, `--help`, flag
 * parsing via node:util parseArgs (strict: an unknown flag is an error, not ignored), the engine
 * line printed once at start, and errors printed as one clear line with exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeEngine, setupEngine, type EngineInfo } from './engine/engine';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command<F extends FlagSpec = FlagSpec> {
  name: string;
  summary: string;
  usage: string;
  flags: F;
  /** False for commands that do no tensor work (no engine line). */
  needsEngine?: boolean;
  run(args: { flags: Record<string, string | boolean | undefined>; positionals: string[]; engine?: EngineInfo }): Promise<void>;
}

export const ENGINE_FLAG = { engine: { type: 'string' } } as const satisfies FlagSpec;

export function intFlag(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got "${String(value)}"`);
  return Number(value);
}

export function floatFlag(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(value)}"`);
  return n;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function helpText(program: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [`usage: ${program} <command> [flags]`, '', 'commands:', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', `${program} <command> --help for its flags`].join('\n');
}

/** Runs a CLI; returns the exit code (the bin shims pass it to process.exitCode). */
export async function runCli(program: string, commands: Command[], argv: string[] = process.argv.slice(2)): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText(program, commands));
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`${program}: unknown command "${name}"\n\n${helpText(program, commands)}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${program} ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...ENGINE_FLAG, ...command.flags }, allowPositionals: true, strict: true });
    let engine: EngineInfo | undefined;
    if (command.needsEngine !== false) {
      engine = await setupEngine({ engine: values.engine as string | undefined });
      console.log(describeEngine(engine));
    }
    await command.run({ flags: values as Record<string, string | boolean | undefined>, positionals, engine });
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    // parseArgs errors (unknown flag, missing value) are usage errors too.
    const usage = err instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
    console.error(`${program} ${command.name}: ${e.message}${usage ? `\nusage: ${program} ${command.usage}` : ''}`);
    if (process.env.DLCV_DEBUG) console.error(e.stack);
    return usage ? 2 : 1;
  }
}
