/**
 * The homework's full DANN experiment: 3 modes x 2 scenarios as 5 distinct runs (the lower
 * bound of both scenarios is the one MNIST-M-only run; the upper bounds are the SVHN-only and
 * USPS-only runs), then the report's table and source x target matrix. Single-domain runs are
 * scored on all three val.csv files, which is what fills the matrix. Finished runs (result.json
 * with the same settings, and their model folder) are reused; unfinished ones resume from their
 * checkpoints. A fourth row needs no training: the MNIST-M-only model with its BatchNorm
 * statistics re-estimated on each target's unlabelled train images (bn-adapt.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { configDifferences, MODEL_FILES, writeFileAtomic } from '@dlcv/core';
import { RESUMABLE_CHANGES, runName, type RunSpec, type TrainConfig } from './config';
import { reestimateBatchNorm } from './bn-adapt';
import { DOMAINS, openDomain, resolveDomain, SCENARIOS, SOURCE_DOMAIN, withoutLabels, type DataLocation, type Domain, type Scenario } from './data';
import { accuracy } from './evaluate';
import { loadDannModel, MODEL_DIR } from './model-io';
import { buildTables, tablesMarkdown, type DannTables } from './report/tables';
import { readResult, RESULT_FILE, type RunResult } from './result';
import { trainRun } from './trainer';

export interface TrainAllOptions {
  config: TrainConfig;
  out: string;
  data: DataLocation;
  /** The command line, recorded in the tables. */
  command: string;
  /** Score each run's eval domains at every epoch end too (trainRun's `trace`). */
  trace?: boolean;
  log?: (message: string) => void;
  quiet?: boolean;
}

export const ALL_RUNS: { spec: RunSpec; evalOn: Domain[] }[] = [
  ...DOMAINS.map((d) => ({ spec: { labelled: d }, evalOn: [...DOMAINS] })),
  ...SCENARIOS.map((s) => ({ spec: { labelled: SOURCE_DOMAIN, unlabelled: s }, evalOn: [s, SOURCE_DOMAIN] })),
];

/** The run's result when it finished with these settings and its model folder is there. */
async function finishedRun(runDir: string, config: TrainConfig): Promise<RunResult | undefined> {
  const done = await readResult(runDir);
  if (!done || configDifferences(done.config, config, RESUMABLE_CHANGES).length > 0) return undefined;
  const hasModel = await fs.stat(path.join(runDir, MODEL_DIR, MODEL_FILES.config)).then(
    () => true,
    () => false,
  );
  return hasModel ? done : undefined;
}

/** Target val accuracy of the source-only run's model with BatchNorm statistics from the target's train images (labels unread). */
export async function sourceWithTargetBn(sourceRunDir: string, config: TrainConfig, data: DataLocation, log: (m: string) => void): Promise<Record<Scenario, number>> {
  const out = {} as Record<Scenario, number>;
  for (const s of SCENARIOS) {
    const { net } = await loadDannModel(sourceRunDir);
    try {
      const folder = await resolveDomain(s, data);
      const size = config.net.imageSize;
      const train = withoutLabels(await openDomain(folder, 'train', size));
      const limit = config.trainLimit;
      const images = limit !== null && train.length > limit ? train.subset(Array.from({ length: limit }, (_, i) => i)) : train;
      const batches = await reestimateBatchNorm(net, images, { batchSize: config.batchSize, seed: config.seed });
      out[s] = await accuracy(net, await openDomain(folder, 'val', size));
      log(`${runName({ labelled: SOURCE_DOMAIN })} + ${s} BatchNorm statistics (${batches} unlabelled batches) on ${folder.label} val.csv: ${(out[s] * 100).toFixed(2)}%`);
    } finally {
      net.dispose();
    }
  }
  return out;
}

export async function trainAll(options: TrainAllOptions): Promise<{ results: RunResult[]; tables: DannTables; markdown: string }> {
  const { config, out, data, command } = options;
  const log = options.log ?? ((m: string) => console.log(m));
  const results: RunResult[] = [];
  for (const { spec, evalOn } of ALL_RUNS) {
    const runDir = path.join(out, runName(spec));
    const done = await finishedRun(runDir, config);
    if (done) {
      log(`${runName(spec)}: done already (${path.join(runDir, RESULT_FILE)})`);
      results.push(done);
      continue;
    }
    results.push(await trainRun({ spec, config, runDir, data, evalOn, resume: true, trace: options.trace, log, quiet: options.quiet }));
  }
  const sourceBn = await sourceWithTargetBn(path.join(out, runName({ labelled: SOURCE_DOMAIN })), config, data, log);
  const tables = buildTables(results, sourceBn);
  const markdown = tablesMarkdown(tables, command);
  await writeFileAtomic(path.join(out, 'table.md'), markdown);
  await writeFileAtomic(path.join(out, 'table.json'), JSON.stringify({ command, ...tables, runs: results }, null, 2) + '\n');
  return { results, tables, markdown };
}
