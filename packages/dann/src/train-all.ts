/**
 * The homework's full DANN experiment: 3 modes x 2 scenarios as 5 distinct runs (the lower
 * bound of both scenarios is the one MNIST-M-only run; the upper bounds are the SVHN-only and
 * USPS-only runs), then the report's table and source x target matrix. Single-domain runs are
 * scored on all three val.csv files, which is what fills the matrix. Finished runs (result.json
 * with the same config) are reused; unfinished ones resume from their checkpoints.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '@dlcv/core';
import { runName, type RunSpec, type TrainConfig } from './config';
import { DOMAINS, SCENARIOS, SOURCE_DOMAIN, type DataLocation, type Domain } from './data';
import { buildTables, tablesMarkdown, type DannTables } from './report';
import { readResult, trainRun, type RunResult } from './train';

export interface TrainAllOptions {
  config: TrainConfig;
  out: string;
  data: DataLocation;
  /** The command line, recorded in the tables. */
  command: string;
  checkpointEvery?: number;
  log?: (message: string) => void;
  quiet?: boolean;
}

export const ALL_RUNS: { spec: RunSpec; evalOn: Domain[] }[] = [
  ...DOMAINS.map((d) => ({ spec: { labelled: d }, evalOn: [...DOMAINS] })),
  ...SCENARIOS.map((s) => ({ spec: { labelled: SOURCE_DOMAIN, unlabelled: s }, evalOn: [s, SOURCE_DOMAIN] })),
];

export async function trainAll(options: TrainAllOptions): Promise<{ results: RunResult[]; tables: DannTables; markdown: string }> {
  const { config, out, data, command } = options;
  const log = options.log ?? ((m: string) => console.log(m));
  const results: RunResult[] = [];
  for (const { spec, evalOn } of ALL_RUNS) {
    const runDir = path.join(out, runName(spec));
    const done = await readResult(runDir);
    if (done && JSON.stringify(done.config) === JSON.stringify(config)) {
      log(`${runName(spec)}: done already (${path.join(runDir, 'result.json')})`);
      results.push(done);
      continue;
    }
    results.push(await trainRun({ spec, config, runDir, data, evalOn, resume: true, checkpointEvery: options.checkpointEvery, log, quiet: options.quiet }));
  }
  const tables = buildTables(results);
  const markdown = tablesMarkdown(tables, command);
  await writeFileAtomic(path.join(out, 'table.md'), markdown);
  await writeFileAtomic(path.join(out, 'table.json'), JSON.stringify({ command, ...tables, runs: results }, null, 2) + '\n');
  return { results, tables, markdown };
}
