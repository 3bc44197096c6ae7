/**
 * Graders' results as the eval package saves them (`dlcv-eval <grader> ... --save FILE`): the
 * grader's JSON plus the command and the homework's baselines for its number. The report reads
 * them loosely (only what it shows), so a result from any grader fits.
 */
import * as path from 'node:path';
import { z } from '../zod-issues';
import { listFiles, readJsonIfAny } from './run-folder';
import type { Cell, ReportCommand, ReportTable } from './types';

/** The homework's score for a result: the number graded and its simple and strong baselines. */
export const homeworkScoreSchema = z.object({
  problem: z.string(),
  metric: z.string(),
  value: z.number(),
  /** Baselines in the metric's units; null when the homework sets none for this case. */
  simple: z.number().nullable(),
  strong: z.number().nullable(),
  higherIsBetter: z.boolean(),
  /** '%' for rates shown as percentages. */
  unit: z.string().optional(),
});
export type HomeworkScore = z.infer<typeof homeworkScoreSchema>;

export const savedEvalResultSchema = z.looseObject({
  grader: z.string(),
  command: z.string().optional(),
  total: z.number().optional(),
  homework: homeworkScoreSchema.optional(),
  /** More numbers of the same result, each a row of its own (e.g. the digits grader's strict network). */
  otherScores: z.array(homeworkScoreSchema).optional(),
});
export type SavedEvalResult = z.infer<typeof savedEvalResultSchema> & { file: string };

/** The saved results in `dir` (its *.json files with a `grader` field), by file name. */
export async function readEvalResults(dir: string): Promise<SavedEvalResult[]> {
  const out: SavedEvalResult[] = [];
  for (const file of await listFiles(dir, /\.json$/)) {
    const parsed = savedEvalResultSchema.safeParse(await readJsonIfAny(file));
    if (parsed.success) out.push({ ...parsed.data, file });
  }
  return out;
}

function show(v: number | null, unit: string | undefined): string {
  if (v === null) return 'none';
  return unit === '%' ? `${(100 * v).toFixed(2)}%` : v.toFixed(2);
}

function beats(score: HomeworkScore, baseline: number | null): boolean | null {
  if (baseline === null) return null;
  return score.higherIsBetter ? score.value >= baseline : score.value <= baseline;
}

/** The graders' numbers against the homework's baselines, one row per result; `runOf` names the run each came from. */
/** Names a saved result by the run folder it lies in (its file name where it lies in none of them). */
export function resultInRuns(runs: readonly { name: string; dir: string }[]): (r: SavedEvalResult) => string {
  return (r) => runs.find((run) => r.file.startsWith(run.dir + path.sep))?.name ?? path.basename(r.file);
}

export function evalTable(results: readonly SavedEvalResult[], runOf: (r: SavedEvalResult) => string): ReportTable | undefined {
  const scored = results.filter((r) => r.homework);
  if (scored.length === 0) return undefined;
  const rows: Cell[][] = [];
  const marks: ('pass' | 'fail' | null)[][] = [];
  for (const r of scored) {
    for (const h of [r.homework as HomeworkScore, ...(r.otherScores ?? [])]) {
      const strong = beats(h, h.strong),
        simple = beats(h, h.simple);
      const verdict = strong ? 'above strong' : simple ? 'above simple' : simple === false ? 'below simple' : 'no baseline';
      rows.push([runOf(r), `problem ${h.problem}: ${r.grader}`, h.metric, show(h.value, h.unit), show(h.simple, h.unit), show(h.strong, h.unit), verdict, r.total ?? null]);
      marks.push([null, null, null, strong ? 'pass' : simple === false ? 'fail' : null, null, null, null, null]);
    }
  }
  return {
    title: "Graders against the homework's baselines",
    columns: ['run', 'grader', 'metric', 'value', 'simple baseline', 'strong baseline', 'verdict', 'images'],
    rows,
    marks,
    note: 'Baselines from the homework (SPEC): the strong one is what full marks ask for.',
  };
}

/** The commands that made the results. */
export function evalCommands(results: readonly SavedEvalResult[]): ReportCommand[] {
  return results.filter((r) => r.command).map((r) => ({ what: `grading (${r.grader}) -> ${path.basename(r.file)}`, command: r.command as string }));
}
