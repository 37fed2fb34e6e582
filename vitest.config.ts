import { defineConfig } from 'vitest/config';

/**
 * Tests run the workspace packages from their TypeScript sources: the `@stellaops/source` export
 * condition (each package.json) points at src/, while plain Node resolves the built dist/.
 */
const SOURCE_CONDITION = '@stellaops/source';
// Processes the tests start (`node --import tsx …`) and worker threads resolve the sources too.
const nodeOptions = [process.env['NODE_OPTIONS'], `--conditions=${SOURCE_CONDITION}`].filter(Boolean).join(' ');

export default defineConfig({
  // Vitest's defaults for Node (no `module`: its builds are for bundlers), plus the source condition.
  ssr: { resolve: { conditions: [SOURCE_CONDITION, 'node', 'development|production'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share PostgreSQL and NATS; isolation comes from unique names per run.
    pool: 'forks',
    env: { NODE_OPTIONS: nodeOptions },
  },
});
