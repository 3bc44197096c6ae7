/**
 * result.json, the last file a run writes: accuracies of the chosen weights on the val.csv files
 * asked for, the chosen epoch, how it was chosen, and the data used. train-all reads it back to
 * reuse finished runs, through the schema below.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJsonFile, writeFileAtomic, z } from '@dlcv/core';
import { runSpecSchema, trainConfigSchema } from './config';
import { DOMAINS } from './data';

export const RESULT_FILE = 'result.json';

export const epochRecordSchema = z.object({
  epoch: z.number().int().min(1),
  step: z.number().int().min(1),
  heldOutAccuracy: z.number(),
  /** With `trace`: each eval domain's val.csv accuracy at this epoch end (never used to choose the epoch). */
  valAccuracy: z.partialRecord(z.enum(DOMAINS), z.number()).optional(),
});
export type EpochRecord = z.infer<typeof epochRecordSchema>;

export const runResultSchema = z.object({
  name: z.string(),
  spec: runSpecSchema,
  config: trainConfigSchema,
  /** Domain -> where its images came from ("usps (embedded usps-like stand-in)"). */
  data: z.record(z.string(), z.string()),
  selection: z.string(),
  bestEpoch: z.number().int(),
  heldOutAccuracy: z.number(),
  /** Accuracy of the chosen weights on each domain's val.csv. */
  accuracy: z.partialRecord(z.enum(DOMAINS), z.number()),
  epochs: z.array(epochRecordSchema),
  steps: z.number().int().min(0),
  trainSeconds: z.number(),
});
export type RunResult = z.infer<typeof runResultSchema>;

/** The run's result, or undefined when it has none yet; a damaged file is an error naming it. */
export async function readResult(runDir: string): Promise<RunResult | undefined> {
  const file = path.join(runDir, RESULT_FILE);
  try {
    await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return readJsonFile(file, runResultSchema);
}

export async function writeResult(runDir: string, result: RunResult): Promise<void> {
  await writeFileAtomic(path.join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
}
