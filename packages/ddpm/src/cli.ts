#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { gridCommand } from './commands/grid';
import { reportCommand } from './commands/report';
import { reverseCommand } from './commands/reverse';
import { sampleCommand } from './commands/sample';
import { trainCommand } from './commands/train';

const { version } = require('../package.json') as { version: string };

void runCli({ name: 'dlcv-ddpm', version }, [trainCommand, sampleCommand, gridCommand, reverseCommand, reportCommand, benchCommand, infoCommand]).then((code) => {
  process.exitCode = code;
});
