import { defineCommand } from '@dlcv/core';
import { trainAll } from '../train-all';
import { dataLocation, runsDir, TRACE_FLAG, TRAIN_FLAGS, trainConfig } from './common';

export const trainAllCommand = defineCommand({
  name: 'train-all',
  summary:
    'All 3 modes x 2 scenarios (5 distinct runs: mnistm, svhn, usps alone; DANN to svhn and to usps), then the report table and the source x target matrix (markdown + JSON). Finished runs are reused, unfinished ones resumed.',
  flags: { ...TRAIN_FLAGS, ...TRACE_FLAG },
  async run({ flags }) {
    const out = runsDir(flags);
    const command = `dlcv-dann train-all ${process.argv.slice(3).join(' ')}`.trim();
    const { markdown } = await trainAll({ config: trainConfig(flags), out, data: dataLocation(flags), command, trace: flags.trace });
    console.log(`\n${markdown}`);
    console.log(`wrote ${out}/table.md and ${out}/table.json`);
  },
});
