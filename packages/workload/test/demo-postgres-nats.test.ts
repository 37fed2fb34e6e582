/**
 * The same journey with the service on PostgreSQL (row-level security, application role) and
 * NATS JetStream (a stream and subject prefix unique to this run), asserted the same way.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { NatsJetStreamBus } from '@stellaops/server';
import { runDemo, type DemoResult } from '../src/index.js';
import { assertDemoRun } from './demo-journey.js';
import { createTestDatabase, NATS_URL, natsAvailable, postgresAvailable, type TestDatabase } from '../../server/test/helpers/external.js';

const available = (await postgresAvailable()) && (await natsAvailable());

describe.skipIf(!available)('demo journey on PostgreSQL and NATS JetStream', () => {
  const run = randomBytes(4).toString('hex');
  const stream = `STELLA_WORKLOAD_${run}`;
  const prefix = `stellawl${run}`;
  let db: TestDatabase;
  let dataDir: string;
  let result: DemoResult;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'stella-workload-e2e-pg-'));
    result = await runDemo({
      dataDir,
      keepRunning: true,
      serviceEnv: {
        STELLA_DATABASE_URL: db.appUrl,
        STELLA_DATABASE_OWNER_URL: db.ownerUrl,
        STELLA_DATABASE_APP_ROLE: db.appRole,
        STELLA_NATS_URL: NATS_URL,
        STELLA_NATS_STREAM: stream,
        STELLA_SUBJECT_PREFIX: prefix,
        STELLA_INDEXER_DURABLE: `indexer-${run}`,
      },
    });
  }, 180_000);

  afterAll(async () => {
    await result?.stack?.stop();
    const bus = await NatsJetStreamBus.connect({ servers: NATS_URL, stream, subjectPrefix: prefix }).catch(() => undefined);
    await bus?.deleteStream().catch(() => undefined);
    await bus?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('traces, logs and records the journey of two tenants, with the failure explained and tenants walled off', async () => {
    await assertDemoRun(result);
  }, 60_000);
});
