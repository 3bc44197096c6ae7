#!/usr/bin/env node
// Thin shim so pnpm can link the bin before the first build.
require("../dist/cli.js");
