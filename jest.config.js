// Three projects: unit (no server), workflow (time-skipping server per file), integration (one dev server per run).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
// cookie@2 (used by fastify's inject) ships ESM only; compile it to CommonJS for Jest on Node 20.
transform['/node_modules/cookie/.+\\.js$'] = ['@swc/jest', { module: { type: 'commonjs' } }];
const common = {
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/setup/closingLine.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'workflow',
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup/quietRuntime.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup/quietRuntime.ts'],
      globalSetup: '<rootDir>/test/setup/integrationSetup.ts',
      globalTeardown: '<rootDir>/test/setup/integrationTeardown.ts',
    },
  ],
};
