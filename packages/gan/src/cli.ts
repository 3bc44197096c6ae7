#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { evalCommand } from './commands/eval';
import { generateCommand } from './commands/generate';
import { gridCommand } from './commands/grid';
import { reportCommand } from './commands/report';
import { summaryCommand } from './commands/summary';
import { trainCommand } from './commands/train';

const { version } = require('../package.json') as { version: string };

void runCli({ name: 'dlcv-gan', version }, [trainCommand, generateCommand, gridCommand, evalCommand, reportCommand, summaryCommand, benchCommand, infoCommand]).then((code) => {
  process.exitCode = code;
});
