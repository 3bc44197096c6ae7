import * as os from 'node:os';
import { defineCommand } from '../cli-kit';

export const infoCommand = defineCommand({
  name: 'info',
  summary: 'Print the engine this machine runs on and why the others were passed over.',
  flags: {},
  async run({ engine }) {
    console.log(`cpus: ${os.availableParallelism()} x ${os.cpus()[0]?.model ?? 'unknown'}; node ${process.version}`);
    for (const s of engine?.skipped ?? []) console.log(`  ${s.engine}: ${s.reason}`);
  },
});
