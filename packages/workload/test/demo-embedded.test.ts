/** `npm run demo`'s journey on embedded defaults (PGlite, in-process bus), asserted through public APIs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runDemo, type DemoResult } from '../src/index.js';
import { assertDemoRun } from './demo-journey.js';

describe('demo journey on embedded defaults', () => {
  let dataDir: string;
  let result: DemoResult;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stella-workload-e2e-'));
    result = await runDemo({ dataDir, keepRunning: true });
  }, 180_000);

  afterAll(async () => {
    await result?.stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('traces, logs and records the journey of two tenants, with the failure explained and tenants walled off', async () => {
    await assertDemoRun(result);
  }, 60_000);
});
