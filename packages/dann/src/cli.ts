#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { predictCommand } from './commands/predict';
import { trainCommand } from './commands/train';
import { trainAllCommand } from './commands/train-all';
import { tsneCommand } from './commands/tsne';

void runCli('dlcv-dann', [trainCommand, trainAllCommand, predictCommand, tsneCommand, benchCommand, infoCommand]).then((code) => {
  process.exitCode = code;
});
