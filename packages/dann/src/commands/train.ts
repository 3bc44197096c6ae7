import * as path from 'node:path';
import { intFlag, type Command } from '@dlcv/core';
import { runName, specFor } from '../config';
import { SOURCE_DOMAIN } from '../data';
import { trainRun } from '../train';
import { dataLocation, parseMode, parseScenario, runsDir, TRAIN_FLAGS, TRAIN_USAGE, trainConfig } from './common';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train one run: --mode source (lower bound), dann, or target (upper bound) of --scenario svhn|usps; scored on the target val.csv.',
  usage: `train --scenario svhn|usps --mode source|dann|target ${TRAIN_USAGE}`,
  flags: { ...TRAIN_FLAGS, scenario: { type: 'string' }, mode: { type: 'string' } },
  async run({ flags }) {
    const scenario = parseScenario(flags.scenario, 'scenario');
    const mode = parseMode(flags.mode);
    const spec = specFor(scenario, mode);
    const runDir = path.join(runsDir(flags), runName(spec));
    const evalOn = [...new Set([scenario, SOURCE_DOMAIN])];
    const result = await trainRun({
      spec, config: trainConfig(flags), runDir, data: dataLocation(flags), evalOn,
      resume: flags.resume === true, checkpointEvery: intFlag(flags['checkpoint-every'], 'checkpoint-every', 50),
    });
    const acc = result.accuracy[scenario] as number;
    console.log(`${mode} (${scenario}): ${(acc * 100).toFixed(2)}% on ${result.data[scenario]} val.csv at epoch ${result.bestEpoch} (${result.selection})`);
    console.log(`wrote ${runDir}/{result.json, loss.png, metrics.jsonl, best/, checkpoints/}`);
  },
};
