// The tools' own tests (plain JavaScript, no transform): the parity checks' bookkeeping and the
// benchmarks' profile tables, the commands and flags the READMEs give, the device run's summary.
module.exports = { testEnvironment: 'node', roots: ['<rootDir>/parity', '<rootDir>/bench', '<rootDir>/checks', '<rootDir>/device'], testMatch: ['**/*.test.js'], transform: {} };
