#!/usr/bin/env node
import { runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { dannCommand } from './commands/dann';
import { digitsCommand } from './commands/digits';
import { faceCommand } from './commands/face';
import { fidCommand } from './commands/fid';
import { reportCommand } from './commands/report';
import { trainClassifierCommand } from './commands/train-classifier';

const { version } = require('../package.json') as { version: string };

void runCli({ name: 'dlcv-eval', version }, [digitsCommand, dannCommand, fidCommand, faceCommand, reportCommand, trainClassifierCommand, benchCommand]).then((code) => {
  process.exitCode = code;
});
