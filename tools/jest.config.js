// The tools' own tests (plain JavaScript, no transform): the parity checks' bookkeeping and the
// benchmarks' profile tables.
module.exports = { testEnvironment: 'node', roots: ['<rootDir>/parity', '<rootDir>/bench'], testMatch: ['**/*.test.js'], transform: {} };
