import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  defaultReportDir,
  defineCommand,
  evalTable,
  flag,
  readEvalResults,
  readJsonIfAny,
  savedEvalResultSchema,
  UsageError,
  writeReport,
  type ReportRun,
  type SavedEvalResult,
} from '@dlcv/core';

/** The saved results a path stands for: one JSON file, or every result file in a folder. */
async function resultsOf(p: string): Promise<SavedEvalResult[]> {
  if ((await fs.stat(p).catch(() => undefined))?.isDirectory()) return readEvalResults(p);
  const parsed = savedEvalResultSchema.safeParse(await readJsonIfAny(p));
  if (!parsed.success) throw new UsageError(`${p}: not a result saved by a grader's --save (no "grader" field, or not found)`);
  return [{ ...parsed.data, file: p }];
}

function asRun(r: SavedEvalResult): ReportRun {
  const h = r.homework;
  const value = h ? (h.unit === '%' ? `${(100 * h.value).toFixed(2)}%` : h.value.toFixed(3)) : '-';
  return {
    name: path.basename(r.file, '.json'),
    dir: r.file,
    facts: [
      ['grader', r.grader],
      ['metric', h?.metric ?? '-'],
      ['value', value],
      ['images', r.total === undefined ? '-' : String(r.total)],
    ],
    config: r,
    images: [],
    commands: r.command ? [{ what: `grading (${r.grader})`, command: r.command }] : [],
  };
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: "A report page of graders' results saved with --save (files, or folders of them): each number against the homework's baselines, side by side, with the commands.",
  positionals: [{ name: 'result', help: 'result JSON files, or folders holding them', path: true, variadic: true }],
  flags: { out: flag.path({ help: 'the report folder', metavar: 'DIR', shown: 'report/ beside the results' }) },
  needsEngine: false,
  async run({ flags, positionals }) {
    const results = (await Promise.all(positionals.map(resultsOf))).flat();
    if (results.length === 0) throw new UsageError(`no saved results in ${positionals.join(', ')} (write them with a grader's --save FILE)`);
    const out = flags.out ?? defaultReportDir(positionals.map((p) => (p.endsWith('.json') ? path.dirname(p) : p)));
    const table = evalTable(results, (r) => path.basename(r.file, '.json'));
    const index = await writeReport(out, {
      title: `Graders: ${results.map((r) => r.grader).join(', ')}`,
      subtitle: "The homework's graders on generated images and predictions",
      kind: 'eval',
      runs: results.map(asRun),
      charts: [],
      tables: table ? [table] : [],
    });
    console.log(`report: ${index}`);
  },
});
