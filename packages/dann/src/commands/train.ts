import * as path from 'node:path';
import { defineCommand, flag } from '@dlcv/core';
import { MODES, runName, specFor } from '../config';
import { SCENARIOS, SOURCE_DOMAIN } from '../data';
import { trainRun } from '../trainer';
import { dataLocation, runsDir, TRACE_FLAG, TRAIN_FLAGS, trainConfig } from './common';

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train one run: --mode source (lower bound), dann, or target (upper bound) of --scenario svhn|usps; scored on the target val.csv.',
  flags: {
    scenario: flag.required(flag.choice(SCENARIOS, { help: 'the target domain' })),
    mode: flag.required(flag.choice(MODES, { help: 'what the run trains on: source only, DANN, or target only' })),
    ...TRAIN_FLAGS,
    ...TRACE_FLAG,
    resume: flag.bool({ help: 'continue the run from its latest checkpoint (a fresh start when there is none)' }),
    'stop-at': flag.int({ help: 'stop after this step with a checkpoint (resume later)', min: 1, metavar: 'STEP' }),
  },
  async run({ flags }) {
    const { scenario, mode } = flags;
    const spec = specFor(scenario, mode);
    const runDir = path.join(runsDir(flags), runName(spec));
    const evalOn = [...new Set([scenario, SOURCE_DOMAIN])];
    const outcome = await trainRun({
      spec,
      config: trainConfig(flags),
      runDir,
      data: dataLocation(flags),
      evalOn,
      resume: flags.resume,
      trace: flags.trace,
      stopAtStep: flags['stop-at'],
    });
    if ('stopped' in outcome) {
      console.log(`run folder: ${runDir}`);
      return;
    }
    const acc = outcome.accuracy[scenario] as number;
    console.log(`${mode} (${scenario}): ${(acc * 100).toFixed(2)}% on ${outcome.data[scenario]} val.csv at epoch ${outcome.bestEpoch} (${outcome.selection})`);
    console.log(`wrote ${runDir}/{result.json, model/, loss.png, metrics.jsonl, best/, checkpoints/}`);
  },
});
