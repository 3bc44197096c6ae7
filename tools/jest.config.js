// The tools' own tests (plain JavaScript, no transform): the parity checks' bookkeeping and the
// benchmarks' profile tables, the commands and flags the READMEs give.
module.exports = { testEnvironment: 'node', roots: ['<rootDir>/parity', '<rootDir>/bench', '<rootDir>/checks'], testMatch: ['**/*.test.js'], transform: {} };
