// `node -r <this file>`: lets a child process spawned by a test run a package's TypeScript
// directly (no build), with the swc transform jest uses. Trainer tests run their training in such
// a child: the same tfjs cpu kernels run about 5x slower inside jest's vm sandbox than in node.
const fs = require('node:fs');
const swc = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
