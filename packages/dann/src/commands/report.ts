import { defaultReportDir, defineCommand, flag } from '@dlcv/core';
import { writeDannReport } from '../report/report';

export const reportCommand = defineCommand({
  name: 'report',
  summary:
    "A report page of a train-all folder (its five runs: the homework's table against the baselines, the source x target matrix, t-SNE figures) or of run folders: curves overlaid, facts side by side, commands, and each run's prediction of a digit you draw, live in the browser. Opens offline from file://.",
  positionals: [{ name: 'folder', help: 'a train-all runs folder, or run folders (with result.json)', path: true, variadic: true }],
  flags: { out: flag.path({ help: 'the report folder', metavar: 'DIR', shown: '<folder>/report; for several, report/ in their common parent folder' }) },
  async run({ flags, positionals }) {
    const out = flags.out ?? defaultReportDir(positionals);
    console.log(`report: ${await writeDannReport(positionals, out)}`);
  },
});
