#!/usr/bin/env node
import { runCli } from './cli-kit';
import { dataCommand } from './commands/data';
import { infoCommand } from './commands/info';
import { smokeCommand } from './commands/smoke';

const { version } = require('../package.json') as { version: string };

void runCli({ name: 'dlcv-core', version }, [infoCommand, dataCommand, smokeCommand]).then((code) => {
  process.exitCode = code;
});
