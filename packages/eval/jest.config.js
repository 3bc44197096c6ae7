module.exports = { ...require('../../jest.config.base.js'), testEnvironment: '<rootDir>/jest.environment.js' };
