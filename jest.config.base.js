// Shared jest setup: swc strips types (fast); `tsc --noEmit` (the typecheck task) checks them.
/** @type {import('jest').Config} */
// The environment shares the host's typed arrays with tests, so onnxruntime-node's outputs pass
// `instanceof Float32Array` checks (see jest.environment.js).
module.exports = {
  testEnvironment: require('path').join(__dirname, 'jest.environment.js'),
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  // Training tests spawn trainers and share 2 cores with the other packages' suites (turbo runs
  // them in parallel): minutes, not seconds, before a test counts as hung.
  testTimeout: 300000,
};
