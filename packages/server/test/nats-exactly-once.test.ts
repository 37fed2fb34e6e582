/**
 * TL-2/TL-6 on NATS JetStream: events published by the emitter reach the store exactly once
 * across a consumer restart, a duplicate publish, and a batch that committed but failed
 * before its acknowledgement. Stream, subjects and consumer are unique to this run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, TimelineEmitter, withContext, type TimelineEvent } from '@stellaops/telemetry-core';
import { CORE_MIGRATIONS, NatsJetStreamBus, PgliteStore, PostgresStore, TimelineIndexer, TimelineRepository, type SqlStore } from '../src/index.js';
import { createTestDatabase, eventually, NATS_URL, natsAvailable, postgresAvailable, type TestDatabase } from './helpers/external.js';

const natsUp = await natsAvailable();
const pgUp = natsUp ? await postgresAvailable() : false;

describe.skipIf(!natsUp)('NATS JetStream exactly-once', () => {
  const run = randomBytes(4).toString('hex');
  const prefix = `stellatest${run}`;
  const stream = `STELLA_TEST_${run}`;
  const durable = `indexer-${run}`;
  const logger = createLogger({ service: 'nats-test', level: 'fatal' });
  let bus: NatsJetStreamBus;
  let store: SqlStore;
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let repository: TimelineRepository;

  beforeAll(async () => {
    if (pgUp) {
      db = await createTestDatabase();
      store = await PostgresStore.open({ url: db.appUrl, ownerUrl: db.ownerUrl, appRole: db.appRole, migrations: [CORE_MIGRATIONS] });
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'stella-nats-'));
      store = await PgliteStore.open({ dataDir, migrations: [CORE_MIGRATIONS] });
    }
    repository = new TimelineRepository(store, 180);
    bus = await NatsJetStreamBus.connect({ servers: NATS_URL, stream, subjectPrefix: prefix, ackWaitMs: 1000 });
  });

  afterAll(async () => {
    await bus?.deleteStream().catch(() => undefined);
    await bus?.close();
    await store?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const count = async (tenant: string): Promise<{ rows: number; distinct: number }> =>
    store.tenantTransaction(tenant, async (tx) => {
      const r = (await tx.query<{ rows: number; distinct: number }>('SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM timeline_events')).rows[0]!;
      return { rows: r.rows, distinct: r.distinct };
    });

  it('stores every emitted event once across a consumer restart and duplicate publishes', async () => {
    const emitter = new TimelineEmitter({ bus, subjectPrefix: prefix });
    const emitted: TimelineEvent[] = [];
    const emitMany = async (n: number, from: number): Promise<void> => {
      await withContext({ tenant_id: 'acme', actor: 'svc-policy' }, async () => {
        for (let i = from; i < from + n; i++) {
          const result = await emitter.emit({ kind: 'policy.evaluated', resource_type: 'sbom', resource_id: `sbom-${i}`, details: { i } });
          expect(result.ok).toBe(true);
          if (result.ok) emitted.push(result.event);
        }
      });
    };
    await emitMany(300, 0);

    const first = new TimelineIndexer({ bus, repository, logger, durable, subjectPrefix: prefix, maxBatch: 25 });
    await first.start();
    await eventually(async () => ((await count('acme')).rows >= 50 ? true : undefined), 15_000, 'the first consumer to store some events');
    await first.stop();
    const afterFirst = (await count('acme')).rows;
    expect(afterFirst).toBeLessThanOrEqual(300);

    // While no consumer runs: more events, and every earlier event published a second time.
    await emitMany(200, 300);
    const republished = await Promise.all(emitted.slice(0, 300).map((e) => emitter.publish(e)));
    expect(republished.every((r) => r.ok && r.duplicate)).toBe(true);

    const second = new TimelineIndexer({ bus, repository, logger, durable, subjectPrefix: prefix, maxBatch: 100 });
    await second.start();
    await eventually(async () => ((await count('acme')).rows === 500 ? true : undefined), 20_000, 'all 500 events stored');
    await second.stop();

    expect(await count('acme')).toEqual({ rows: 500, distinct: 500 });
    const stored = await store.tenantTransaction('acme', async (tx) => (await tx.query<{ event_id: string; digest: string }>('SELECT event_id, digest FROM timeline_events')).rows);
    const byId = new Map(stored.map((r) => [r.event_id, r.digest]));
    for (const e of emitted) expect(byId.get(e.event_id)).toBe(e.digest);
  });

  it('stores a batch once when it committed but was not acknowledged (redelivery)', async () => {
    const emitter = new TimelineEmitter({ bus, subjectPrefix: prefix });
    const ids: string[] = [];
    await withContext({ tenant_id: 'globex' }, async () => {
      for (let i = 0; i < 40; i++) {
        const r = await emitter.emit({ kind: 'export.completed', resource_id: `exp-${i}` });
        if (r.ok) ids.push(r.event.event_id);
      }
    });
    // A consumer that commits, then "crashes" before acknowledging its first batch.
    let failedOnce = false;
    const redelivered: number[] = [];
    const consumer = await bus.consume({
      durable: `crashy-${run}`,
      filterSubject: `${prefix}.globex.timeline.>`,
      maxBatch: 40,
      handler: async (batch) => {
        const events = batch.map((m) => JSON.parse(Buffer.from(m.data).toString('utf8')) as TimelineEvent);
        await repository.insertBatch('globex', events);
        redelivered.push(...batch.filter((m) => m.deliveryCount > 1).map(() => 1));
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('crash after commit, before ack');
        }
      },
    });
    await eventually(async () => (redelivered.length >= 1 && (await count('globex')).rows === 40 ? true : undefined), 20_000, 'redelivery after the failed batch');
    await consumer.stop();
    expect(await count('globex')).toEqual({ rows: 40, distinct: 40 });
  });
});
