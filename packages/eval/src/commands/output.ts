/** Output shared by the grader commands: JSON on request, else a short human summary. */
import * as path from 'node:path';
import { currentCommandLine, flag, makeDir, writeFileAtomic, type HomeworkScore } from '@dlcv/core';
import type { ClassAccuracy } from '../graders/digits';
import type { SkippedFile } from '../files';

export const JSON_FLAG = { json: flag.bool({ help: 'print the whole result as JSON' }) };

/** The graders' output flags: --json, and --save for the report pages. */
export const GRADER_FLAGS = {
  ...JSON_FLAG,
  save: flag.path({ help: 'also write the whole result as JSON to FILE, with the command and the homework baselines (what the report pages read)', metavar: 'FILE' }),
};

/** Writes `result` with this command line and its homework score to `file` (the --save flag). */
export async function saveResult(file: string | undefined, result: object, homework: HomeworkScore, otherScores: HomeworkScore[] = []): Promise<void> {
  if (file === undefined) return;
  await makeDir(path.dirname(path.resolve(file)));
  const others = otherScores.length ? { otherScores } : {};
  await writeFileAtomic(file, `${JSON.stringify({ ...result, command: currentCommandLine(), homework, ...others }, null, 2)}\n`);
}

export function emit(result: unknown, json: boolean | string | undefined, summary: () => string[]): void {
  if (json) console.log(JSON.stringify(result, null, 2));
  else console.log(summary().join('\n'));
}

export const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);

export function perClassLines(rows: ClassAccuracy[]): string[] {
  return rows.filter((r) => r.total > 0).map((r) => `  ${r.label}: ${pct(r.accuracy).padStart(7)} (${r.correct}/${r.total})`);
}

export function fileListLines(title: string, list: SkippedFile[], max = 5): string[] {
  if (list.length === 0) return [];
  const lines = list.slice(0, max).map((s) => `  ${path.basename(s.file)}: ${s.reason}`);
  if (list.length > max) lines.push(`  ... and ${list.length - max} more (--json lists all)`);
  return [`${title}: ${list.length}`, ...lines];
}
