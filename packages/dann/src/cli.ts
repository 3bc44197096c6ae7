#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { predictCommand } from './commands/predict';
import { reportCommand } from './commands/report';
import { trainCommand } from './commands/train';
import { trainAllCommand } from './commands/train-all';
import { tsneCommand } from './commands/tsne';

const { version } = require('../package.json') as { version: string };

void runCli({ name: 'dlcv-dann', version }, [trainCommand, trainAllCommand, predictCommand, tsneCommand, reportCommand, benchCommand, infoCommand]).then((code) => {
  process.exitCode = code;
});
