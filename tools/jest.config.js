// The tools' own tests (plain JavaScript, no transform): the parity checks' bookkeeping.
module.exports = { testEnvironment: 'node', roots: ['<rootDir>/parity'], testMatch: ['**/*.test.js'], transform: {} };
