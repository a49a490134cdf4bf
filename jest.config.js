// @ts-check
const { swcOptions, libs } = require('./tools/swc-options.cjs');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions()] },
  moduleNameMapper: Object.fromEntries(
    libs.map((l) => [`^@lianfang/${l}$`, `<rootDir>/libs/${l}/src/index.ts`]),
  ),
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60_000,
  maxWorkers: process.env.JEST_WORKERS ?? 2,
};
