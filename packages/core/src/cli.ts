#!/usr/bin/env node
import { runCli } from './cli-kit';
import { dataCommand } from './commands/data';
import { infoCommand } from './commands/info';
import { smokeCommand } from './commands/smoke';

void runCli('dlcv-core', [infoCommand, dataCommand, smokeCommand]).then((code) => {
  process.exitCode = code;
});
