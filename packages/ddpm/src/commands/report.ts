import { defaultReportDir, defineCommand, flag } from '@dlcv/core';
import { writeDdpmReport } from '../report/report';

export const reportCommand = defineCommand({
  name: 'report',
  summary:
    'A report page of one or more run folders (several: one comparison page): config, loss curves, per-epoch grids, the 10x10 grid, the reverse process, graders, commands, and live sampling in the browser. Opens offline from file://.',
  positionals: [{ name: 'run', help: 'run folders written by `train` (with their model/)', path: true, variadic: true }],
  flags: { out: flag.path({ help: 'the report folder', metavar: 'DIR', shown: '<run>/report; for several runs, report/ in their common parent folder' }) },
  async run({ flags, positionals }) {
    const out = flags.out ?? defaultReportDir(positionals);
    console.log(`report: ${await writeDdpmReport(positionals, out, (m) => console.log(m))}`);
  },
});
