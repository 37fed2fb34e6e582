/**
 * Bounded redelivery on NATS JetStream: the consumer carries `max_deliver` and a `backoff`;
 * poison the store refuses is quarantined on its first delivery while the rest of the batch
 * is stored (it is not redelivered 163 times); and a message whose store stays unreachable is
 * quarantined on its last delivery instead of leaving the consumer silently. Stream, subjects
 * and consumers are unique to this run; the real NATS at 127.0.0.1:4222 (required with CI=true).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { buildTimelineEvent, createLogger, encodeTimelineEvent, timelineSubject, type BusMessage, type TimelineEvent } from '@stellaops/telemetry-core';
import { CORE_MIGRATIONS, NatsJetStreamBus, PgliteStore, StoreError, TimelineIndexer, TimelineRepository, type SqlStore } from '../../src/index.js';
import { Quarantine } from '../../src/ingest/quarantine.js';
import { eventually, NATS_URL, natsAvailable } from '../helpers/external.js';

const natsUp = await natsAvailable();
const FIXTURE = { name: 'refuse-poison-fixture', dir: fileURLToPath(new URL('./fixtures/refuse-poison/', import.meta.url)) };

describe.skipIf(!natsUp)('NATS JetStream: bounded redelivery, poison quarantined', () => {
  const run = randomBytes(4).toString('hex');
  const prefix = `stellatest${run}`;
  const stream = `STELLA_REDELIVERY_${run}`;
  const logger = createLogger({ service: 'nats-redelivery-test', level: 'fatal' });
  const handlerErrors: string[] = [];
  let dataDir: string;
  let store: SqlStore;
  let quarantine: Quarantine;
  let bus: NatsJetStreamBus;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stella-nats-redelivery-'));
    store = await PgliteStore.open({ dataDir, migrations: [CORE_MIGRATIONS, FIXTURE] });
    quarantine = new Quarantine(store, logger);
    bus = await NatsJetStreamBus.connect({
      servers: NATS_URL,
      stream,
      subjectPrefix: prefix,
      ackWaitMs: 2000,
      maxDeliver: 3,
      redeliveryDelaysMs: [50, 100],
      onHandlerError: (error) => handlerErrors.push((error as Error).message),
    });
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await bus?.deleteStream().catch(() => undefined);
    await bus?.close();
    await nc?.close();
    await store?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const event = (tenant: string, resourceId: string): TimelineEvent => buildTimelineEvent({ tenant_id: tenant, kind: 'policy.evaluated', resource_type: 'sbom', resource_id: resourceId });
  const publish = (e: TimelineEvent) => bus.publish(timelineSubject(e.tenant_id, e.kind, prefix), encodeTimelineEvent(e), { msgId: e.event_id });
  const stored = (tenant: string): Promise<Set<string>> =>
    store.tenantTransaction(tenant, async (tx) => new Set((await tx.query<{ event_id: string }>('SELECT event_id FROM timeline_events WHERE tenant_id = $1', [tenant])).rows.map((r) => r.event_id)));

  it('configures the consumer with max_deliver and a backoff that starts at the ack wait', async () => {
    const indexer = new TimelineIndexer({ bus, repository: new TimelineRepository(store, 180), quarantine, logger, durable: `config-${run}`, subjectPrefix: prefix });
    await indexer.start();
    try {
      const info = await jsm.consumers.info(stream, `config-${run}`);
      expect(info.config.max_deliver).toBe(3);
      expect(info.config.backoff?.map((ns) => ns / 1e6)).toEqual([2000, 4000]);
      expect((info.config.ack_wait ?? 0) / 1e6).toBe(2000);
    } finally {
      await indexer.stop();
    }
  });

  it('quarantines poison on its first delivery and stores the rest of the batch', async () => {
    const durable = `poison-${run}`;
    const deliveries: number[] = [];
    const indexer = new TimelineIndexer({ bus, repository: new TimelineRepository(store, 180), quarantine, logger, durable, subjectPrefix: prefix, maxBatch: 500 });
    const handle = indexer.handle.bind(indexer);
    indexer.handle = async (batch: readonly BusMessage[]) => {
      deliveries.push(...batch.map((m) => m.deliveryCount));
      expect(batch.every((m) => m.maxDeliveries === 3)).toBe(true);
      return handle(batch);
    };
    const good = Array.from({ length: 100 }, (_, i) => event(i % 2 ? 'acme' : 'globex', `r-${i}`));
    const poison = [event('acme', 'poison-check'), event('globex', 'poison-data')];
    for (const e of [...good.slice(0, 50), ...poison, ...good.slice(50)]) await publish(e);
    await indexer.start();
    try {
      await eventually(async () => ((await quarantine.list('acme')).length + (await quarantine.list('globex')).length === 2 ? true : undefined), 30_000, 'both poison events quarantined');
      const [acme, globex] = [await stored('acme'), await stored('globex')];
      for (const e of good) expect((e.tenant_id === 'acme' ? acme : globex).has(e.event_id)).toBe(true);
      await eventually(async () => {
        const info = await jsm.consumers.info(stream, durable);
        return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
      }, 20_000, 'every message acknowledged');
      // Nothing was redelivered: the poison did not fail its batch.
      expect(deliveries.every((d) => d === 1)).toBe(true);
      expect((await jsm.consumers.info(stream, durable)).num_redelivered).toBe(0);
      expect((await quarantine.list('acme'))[0]).toMatchObject({ reason: 'timeline.store_rejected', source: `bus:${timelineSubject('acme', 'policy.evaluated', prefix)}#${poison[0]!.event_id}` });
    } finally {
      await indexer.stop();
    }
  });

  it('quarantines a message on its last delivery when the store stays unreachable for its tenant', async () => {
    const durable = `exhaust-${run}`;
    const repository = new TimelineRepository(store, 180);
    const insertBatch = repository.insertBatch.bind(repository);
    const attempts: number[] = [];
    repository.insertBatch = async (tenant, events) => {
      if (tenant === 'initech') throw new StoreError('store.unavailable', 'the database is unreachable', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      return insertBatch(tenant, events);
    };
    const indexer = new TimelineIndexer({ bus, repository, quarantine, logger, durable, subjectPrefix: prefix });
    const handle = indexer.handle.bind(indexer);
    indexer.handle = async (batch: readonly BusMessage[]) => {
      attempts.push(Math.max(...batch.map((m) => m.deliveryCount)));
      return handle(batch);
    };
    const unlucky = [event('initech', 'a'), event('initech', 'b')];
    const lucky = [event('hooli', 'a'), event('hooli', 'b')];
    for (const e of [...unlucky, ...lucky]) await publish(e);
    await indexer.start();
    try {
      const entries = await eventually(async () => {
        const list = await quarantine.list('initech');
        return list.length === 2 ? list : undefined;
      }, 30_000, 'the unreachable tenant’s events quarantined on their last delivery');
      for (const q of entries) {
        expect(q.reason).toBe('timeline.delivery_exhausted');
        expect(q.error).toMatch(/not stored after 3 deliveries.*unreachable/);
        expect(unlucky.map((e) => e.event_id)).toContain(JSON.parse(q.payload!.toString()).event_id);
      }
      expect(Math.max(...attempts)).toBe(3);
      const hooli = await stored('hooli');
      for (const e of lucky) expect(hooli.has(e.event_id)).toBe(true);
      await eventually(async () => {
        const info = await jsm.consumers.info(stream, durable);
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      }, 20_000, 'acknowledged after the last delivery');
      // A new durable reads the whole stream: the earlier test's two poison events come again.
      expect(indexer.stats.quarantined).toBe(4);
    } finally {
      await indexer.stop();
    }
  });

  it('tells the operator when a batch fails on its last delivery and what stays in the stream', async () => {
    const durable = `giveup-${run}`;
    const before = handlerErrors.length;
    const seen: number[] = [];
    const consumer = await bus.consume({
      durable,
      filterSubject: `${prefix}.umbrella.timeline.>`,
      handler: async (batch) => {
        seen.push(batch[0]!.deliveryCount);
        throw new Error('this consumer has no quarantine');
      },
    });
    try {
      await publish(event('umbrella', 'x'));
      await eventually(async () => (handlerErrors.slice(before).some((m) => /reached max_deliver \(3\)/.test(m)) ? true : undefined), 20_000, 'the max_deliver report');
      expect(seen).toEqual([1, 2, 3]);
      expect(handlerErrors.slice(before).find((m) => /reached max_deliver/.test(m))).toMatch(new RegExp(`stay in stream ${stream} at sequence`));
    } finally {
      await consumer.stop();
    }
  });
});
