#!/usr/bin/env node
import { infoCommand, runCli } from '@dlcv/core';

// Commands arrive with this package's own issue; `info` shows the engine meanwhile.
void runCli('dlcv-gan', [infoCommand]).then((code) => {
  process.exitCode = code;
});
