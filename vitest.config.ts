import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share PostgreSQL and NATS; isolation comes from unique names per run.
    pool: 'forks',
  },
});
