#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';
import { benchCommand } from './commands/bench';
import { gridCommand } from './commands/grid';
import { useFastCpuKernels } from './kernels/conv2d-backprop-filter';
import { reverseCommand } from './commands/reverse';
import { sampleCommand } from './commands/sample';
import { trainCommand } from './commands/train';

// Before any command: the pure-JS backend's weight-gradient kernel is 40x slower than it needs to be.
useFastCpuKernels();

void runCli('dlcv-ddpm', [trainCommand, sampleCommand, gridCommand, reverseCommand, benchCommand, infoCommand]).then((code) => {
  process.exitCode = code;
});
