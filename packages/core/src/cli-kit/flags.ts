/**
 * Typed command-line flags: each flag is declared once with its type, default and help, and that
 * one declaration parses and checks the value, types it for the command, and writes the usage
 * and help lines. Flags are kebab-case (`--save-every`); values reach the command under the same
 * key, already parsed (`flags['save-every']: number`).
 */
import { userPath } from './paths';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Raw = string | boolean | undefined;

export interface Flag<T> {
  /** How node:util parseArgs reads it. */
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in usage lines (N, X, DIR, a|b); empty for a switch. */
  readonly metavar: string;
  readonly help: string;
  /** The default as the help shows it, when there is one. */
  readonly shown?: string;
  /** Must be given (usage shows it without brackets). */
  readonly required?: boolean;
  parse(raw: Raw, name: string): T;
}

/** The parsed type of a flag spec. */
export type FlagValue<F> = F extends Flag<infer T> ? T : never;
export type FlagSpecs = Record<string, Flag<unknown>>;
export type FlagValues<F extends FlagSpecs> = { [K in keyof F]: FlagValue<F[K]> };

interface Common {
  help: string;
  /** Placeholder in usage lines. */
  metavar?: string;
  /** The default as the help text shows it, for defaults computed at run time ("the model's"). */
  shown?: string;
}
interface NumberOptions<D> extends Common {
  default?: D;
  min?: number;
  max?: number;
}

function stringValue(raw: Raw, name: string): string {
  if (typeof raw !== 'string') throw new UsageError(`--${name} needs a value`);
  return raw;
}

function numberFlag(kind: 'int' | 'float', options: NumberOptions<number | undefined>): Flag<number | undefined> {
  const { min, max } = options;
  const range = min !== undefined && max !== undefined ? ` in ${min}..${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
  return {
    type: 'string',
    metavar: options.metavar ?? (kind === 'int' ? 'N' : 'X'),
    help: options.help,
    shown: options.shown ?? (options.default === undefined ? undefined : String(options.default)),
    parse(raw, name) {
      if (raw === undefined) return options.default;
      const text = stringValue(raw, name);
      const ok = kind === 'int' ? /^-?\d+$/.test(text) : text.trim() !== '' && Number.isFinite(Number(text));
      const value = Number(text);
      if (!ok) throw new UsageError(`--${name} must be ${kind === 'int' ? 'an integer' : 'a number'}${range}, got "${text}"`);
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) throw new UsageError(`--${name} must be${range}, got ${text}`);
      return value;
    },
  };
}

export function int(options: NumberOptions<number> & { default: number }): Flag<number>;
export function int(options: NumberOptions<undefined>): Flag<number | undefined>;
export function int(options: NumberOptions<number | undefined>): Flag<number | undefined> {
  return numberFlag('int', options);
}

export function float(options: NumberOptions<number> & { default: number }): Flag<number>;
export function float(options: NumberOptions<undefined>): Flag<number | undefined>;
export function float(options: NumberOptions<number | undefined>): Flag<number | undefined> {
  return numberFlag('float', options);
}

export function string(options: Common & { default: string }): Flag<string>;
export function string(options: Common & { default?: undefined }): Flag<string | undefined>;
export function string(options: Common & { default?: string }): Flag<string | undefined> {
  return {
    type: 'string',
    metavar: options.metavar ?? 'TEXT',
    help: options.help,
    shown: options.shown ?? options.default,
    parse: (raw, name) => (raw === undefined ? options.default : stringValue(raw, name)),
  };
}

/** A file or folder the user typed, resolved against where they typed it (see paths.ts). */
export function path(options: Common & { default: string }): Flag<string>;
export function path(options: Common & { default?: undefined }): Flag<string | undefined>;
export function path(options: Common & { default?: string }): Flag<string | undefined> {
  return {
    type: 'string',
    metavar: options.metavar ?? 'PATH',
    help: options.help,
    shown: options.shown ?? options.default,
    parse: (raw, name) => {
      const p = raw === undefined ? options.default : stringValue(raw, name);
      return p === undefined ? undefined : userPath(p);
    },
  };
}

export function choice<const C extends readonly string[]>(values: C, options: Common & { default: C[number] }): Flag<C[number]>;
export function choice<const C extends readonly string[]>(values: C, options: Common & { default?: undefined }): Flag<C[number] | undefined>;
export function choice<const C extends readonly string[]>(values: C, options: Common & { default?: C[number] }): Flag<C[number] | undefined> {
  return {
    type: 'string',
    metavar: options.metavar ?? values.join('|'),
    help: options.help,
    shown: options.shown ?? options.default,
    parse(raw, name) {
      if (raw === undefined) return options.default;
      const text = stringValue(raw, name);
      if (!values.includes(text)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, got "${text}"`);
      return text as C[number];
    },
  };
}

/** A comma-separated list of non-negative integers (`--t 0,5,20`). */
export function intList(options: Common & { default: number[] }): Flag<number[]>;
export function intList(options: Common & { default?: undefined }): Flag<number[] | undefined>;
export function intList(options: Common & { default?: number[] }): Flag<number[] | undefined> {
  return {
    type: 'string',
    metavar: options.metavar ?? 'N,N,...',
    help: options.help,
    shown: options.shown ?? options.default?.join(','),
    parse(raw, name) {
      if (raw === undefined) return options.default;
      const text = stringValue(raw, name);
      if (!/^\d+(,\d+)*$/.test(text)) throw new UsageError(`--${name} must be a comma-separated list of non-negative integers, got "${text}"`);
      return text.split(',').map(Number);
    },
  };
}

/** The same flag, which must be given: its value is never undefined. */
export function required<T>(f: Flag<T | undefined>): Flag<T> {
  return {
    ...f,
    required: true,
    parse(raw, name) {
      if (raw === undefined) throw new UsageError(`--${name} is required`);
      return f.parse(raw, name) as T;
    },
  };
}

/** A switch: present or not. */
export function bool(options: Omit<Common, 'metavar'>): Flag<boolean> {
  return { type: 'boolean', metavar: '', help: options.help, shown: options.shown, parse: (raw) => raw === true };
}

/** Parses every declared flag (absent ones get their defaults). */
export function parseFlags<F extends FlagSpecs>(specs: F, raw: Record<string, Raw>): FlagValues<F> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.parse(raw[name], name);
  return out as FlagValues<F>;
}

/** `[--name METAVAR]` for each flag, in declaration order. */
export function usageFlags(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, f]) => {
      const text = f.metavar ? `--${name} ${f.metavar}` : `--${name}`;
      return f.required ? text : `[${text}]`;
    })
    .join(' ');
}

/** One help line per flag: name, placeholder, text and default. */
export function helpLines(specs: FlagSpecs): string[] {
  const heads = Object.entries(specs).map(([name, f]) => [f.metavar ? `--${name} ${f.metavar}` : `--${name}`, f] as const);
  const width = Math.min(34, Math.max(0, ...heads.map(([h]) => h.length)));
  return heads.map(([head, f]) => `  ${head.padEnd(width)}  ${f.help}${f.required ? ' (required)' : f.shown !== undefined ? ` (default: ${f.shown})` : ''}`);
}
