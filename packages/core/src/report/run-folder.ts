/**
 * Reading what a training run left in its folder, the same for every package: config.json,
 * commands.jsonl (who ran what, on which engine, for how long), image series such as the
 * per-epoch grids, and a few formatting helpers for the facts tables.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readMetrics } from '../metrics';
import { COMMAND_LOG_FILE, commandRecordSchema, type CommandRecord } from '../run/command-log';
import type { ReportCommand, ReportImageSet } from './types';

export const exists = (p: string) => existsSync(p);

/** A JSON file's content, or undefined when it is missing; a damaged file is an error naming it. */
export async function readJsonIfAny(file: string): Promise<unknown> {
  if (!exists(file)) return undefined;
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** The training commands of a run from its commands.jsonl (start and end lines paired), oldest first. */
export async function readCommandLog(runDir: string, what = 'training'): Promise<ReportCommand[]> {
  const file = path.join(runDir, COMMAND_LOG_FILE);
  if (!exists(file)) return [];
  const { records } = await readMetrics<Record<string, unknown>>(file);
  const out: ReportCommand[] = [];
  for (const raw of records) {
    const parsed = commandRecordSchema.safeParse(raw);
    if (!parsed.success) continue;
    const r: CommandRecord = parsed.data;
    if (r.event === 'start') out.push({ what, command: r.command ?? '', cwd: r.cwd, engine: r.engine ?? null, time: r.time, fromStep: r.fromStep });
    else if (out.length && out[out.length - 1]?.seconds === undefined) (out[out.length - 1] as ReportCommand).seconds = r.seconds;
  }
  return out;
}

/** Files of `dir` whose names match `pattern`, sorted by name (epoch-0001.png, epoch-0002.png, ...). */
export async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  if (!exists(dir)) return [];
  const names = (await fs.readdir(dir)).filter((n) => pattern.test(n)).sort();
  return names.map((n) => path.join(dir, n));
}

/** The per-epoch grids in `dir` (epoch-0003.png or epoch-003.png) as a slider, or undefined when there are none. */
export async function epochGrids(dir: string, title: string, caption?: string): Promise<ReportImageSet | undefined> {
  const files = await listFiles(dir, /^epoch-\d+\.png$/);
  if (files.length === 0) return undefined;
  const images = files.map((f) => ({ src: f, label: `epoch ${Number(/(\d+)/.exec(path.basename(f))?.[1])}` }));
  return { title, caption, images, slider: true, zoom: 2 };
}

/** One image (or none when the file is missing) as a set of its own. */
export function singleImage(file: string, title: string, label: string, caption?: string, zoom?: number): ReportImageSet | undefined {
  return exists(file) ? { title, caption, images: [{ src: file, label }], zoom } : undefined;
}

/** Wall time as "42 s", "12.3 min" or "2.1 h". */
export function formatSeconds(s: number): string {
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The engine line without what the facts table needs not repeat: the prefix, the addon's path, the engines passed over. */
export function shortEngine(line: string): string {
  return line
    .replace(/^engine: /, '')
    .replace(/; passed over:.*$/, '')
    .replace(/ \([^()]*\.node\)$/, '');
}

/** Facts about the commands that trained the run: engine, wall time, time per step. */
export function timingFacts(commands: readonly ReportCommand[], finalStep: number | undefined): [string, string][] {
  const facts: [string, string][] = [];
  const timed = commands.filter((c) => c.seconds !== undefined);
  if (timed.length) {
    const total = timed.reduce((s, c) => s + (c.seconds as number), 0);
    facts.push(['training wall time', `${formatSeconds(total)}${commands.length > 1 ? ` over ${commands.length} commands` : ''}`]);
    const first = commands[0]?.fromStep ?? 0;
    if (finalStep !== undefined && finalStep > first && timed.length === commands.length) facts.push(['time per step', `${(total / (finalStep - first)).toFixed(3)} s`]);
  }
  const engine = commands[commands.length - 1]?.engine;
  if (engine) facts.push(['engine', shortEngine(engine)]);
  return facts;
}

/** The newest step of a run's metrics.jsonl, or undefined. */
export async function lastStep(runDir: string): Promise<number | undefined> {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!exists(file)) return undefined;
  const { records } = await readMetrics<Record<string, unknown>>(file);
  let last: number | undefined;
  for (const r of records) if (typeof r.step === 'number') last = Math.max(last ?? 0, r.step);
  return last;
}

/** The runs' names on a page: each folder's name, with a prime added where an earlier run has it. */
export function runLabels(dirs: readonly string[]): string[] {
  const names: string[] = [];
  for (const dir of dirs) {
    let name = path.basename(path.resolve(dir));
    while (names.includes(name)) name = `${name}'`;
    names.push(name);
  }
  return names;
}

/** A path as a command shown in a report should spell it: relative when inside the working folder, else absolute. */
export function displayPath(p: string): string {
  const abs = path.resolve(p);
  const rel = path.relative(process.cwd(), abs);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
