/**
 * Poison never blocks the line (STO-5): messages published straight on the bus — bypassing
 * the emitter and POST validation — that the database refuses (SQLSTATE classes 23, 22, 54,
 * from a fixture constraint and trigger) or that do not decode (bad JSON, wrong digest,
 * another tenant's subject, a year the decoder refuses) land in the tenant's quarantine with
 * the reason and the message as received; every other event of the same batch and of the
 * other tenant is stored; the batch is acknowledged (the outbox empties) and the indexer keeps
 * going. An unreachable store is different: the batch is retried, nothing is quarantined.
 * On the embedded engine and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, encodeTimelineEvent, timelineEventDigest, timelineSubject, type BusMessage, type TimelineEvent } from '@stellaops/telemetry-core';
import { createService, FEATURES, resolveConfig, StoreError, TimelineIndexer, TimelineRepository, type ServiceFeature, type StellaService, type TimelineRuntime } from '../../src/index.js';
import { OutboxBus } from '../../src/bus/outbox-bus.js';
import { createTestDatabase, eventually, postgresAvailable, type TestDatabase } from '../helpers/external.js';

const pgUp = await postgresAvailable();

const REFUSE_POISON: ServiceFeature = {
  name: 'refuse-poison-fixture',
  migrations: { name: 'refuse-poison-fixture', dir: fileURLToPath(new URL('./fixtures/refuse-poison/', import.meta.url)) },
  create: () => ({}),
};

interface Started {
  service: StellaService;
  stop(): Promise<void>;
}

async function start(env: Record<string, string>): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-poison-'));
  const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'fatal'], env);
  const service = await createService({ config, features: [...FEATURES, REFUSE_POISON] });
  return {
    service,
    stop: async () => {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const engines: { name: string; available: boolean; env(): Promise<{ env: Record<string, string>; db?: TestDatabase }> }[] = [
  { name: 'embedded PGlite', available: true, env: async () => ({ env: {} }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    env: async () => {
      const db = await createTestDatabase();
      return { db, env: { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole } };
    },
  },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`poison on the timeline bus, ${engine.name}`, () => {
    let s: Started;
    let db: TestDatabase | undefined;
    let timeline: TimelineRuntime;
    let bus: OutboxBus;

    beforeAll(async () => {
      const e = await engine.env();
      db = e.db;
      s = await start(e.env);
      timeline = s.service.features.get('timeline') as TimelineRuntime;
      expect(s.service.bus).toBeInstanceOf(OutboxBus);
      bus = s.service.bus as OutboxBus;
    });
    afterAll(async () => {
      await s?.stop();
      await db?.drop();
    });

    const count = (tenant: string): Promise<number> =>
      s.service.store.tenantTransaction(tenant, async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events WHERE tenant_id = $1', [tenant])).rows[0]!.n);
    const storedIds = (tenant: string): Promise<Set<string>> =>
      s.service.store.tenantTransaction(tenant, async (tx) => new Set((await tx.query<{ event_id: string }>('SELECT event_id FROM timeline_events WHERE tenant_id = $1', [tenant])).rows.map((r) => r.event_id)));
    const publishEvent = (e: TimelineEvent, subject = timelineSubject(e.tenant_id, e.kind)) => bus.publish(subject, encodeTimelineEvent(e), { msgId: e.event_id });
    const build = (tenant: string, resourceId: string) => s.service.emitter.build({ tenant_id: tenant, kind: 'policy.evaluated', resource_type: 'sbom', resource_id: resourceId, details: { resourceId } });

    it('quarantines what cannot be stored, stores every other event of the batch and of the other tenant, and acknowledges the batch', async () => {
      // One batch: the indexer is stopped while everything is published, then reads it all at once.
      await timeline.indexer.stop();
      const good: TimelineEvent[] = [];
      const messages: { subject: string; id: string; data: Uint8Array }[] = [];
      for (let i = 0; i < 300; i++) {
        good.push(build('acme', `acme-${i}`), build('globex', `globex-${i}`));
        if (i === 10) for (const r of ['poison-check', 'poison-data', 'poison-limit']) messages.push({ subject: timelineSubject('acme', 'policy.evaluated'), ...((e) => ({ id: e.event_id, data: encodeTimelineEvent(e) }))(build('acme', r)) });
        if (i === 150) messages.push({ subject: timelineSubject('globex', 'policy.evaluated'), ...((e) => ({ id: e.event_id, data: encodeTimelineEvent(e) }))(build('globex', 'poison-check')) });
      }
      // Messages that do not decode into an event of the subject's tenant.
      const subject = timelineSubject('acme', 'policy.evaluated');
      messages.push({ subject, id: 'bad-json', data: Buffer.from('{"event_id": nope') });
      const tampered = { ...build('acme', 'tampered'), resource_id: 'changed after hashing' };
      messages.push({ subject, id: tampered.event_id, data: encodeTimelineEvent(tampered) });
      const foreign = build('globex', 'wrong-subject');
      messages.push({ subject, id: foreign.event_id, data: encodeTimelineEvent(foreign) });
      const { digest: _d, ...base } = build('acme', 'year-zero');
      const yearZero = { ...base, ts: '0000-01-01T00:00:00.000Z' };
      messages.push({ subject, id: yearZero.event_id, data: encodeTimelineEvent({ ...yearZero, digest: timelineEventDigest(yearZero) }) });
      // No tenant can be told from this subject ("global" is not a tenant): logged and counted only.
      messages.push({ subject: 'stella.global.timeline.policy.evaluated', id: 'no-tenant', data: Buffer.from('{}') });

      await Promise.all([...good.map((e) => publishEvent(e)), ...messages.map((m) => bus.publish(m.subject, m.data, { msgId: m.id }))]);
      const before = { ...timeline.indexer.stats };
      await timeline.indexer.start();

      await eventually(async () => ((await count('acme')) >= 300 && (await count('globex')) >= 300 ? true : undefined), 60_000, 'all good events stored');
      await eventually(async () => ((await bus.backlog()) === 0 ? true : undefined), 30_000, 'the batch acknowledged and the outbox emptied');
      const acmeIds = await storedIds('acme');
      const globexIds = await storedIds('globex');
      for (const e of good) expect((e.tenant_id === 'acme' ? acmeIds : globexIds).has(e.event_id), e.resource_id!).toBe(true);
      expect(acmeIds.size).toBe(300);
      expect(globexIds.size).toBe(300);

      const acmeQ = await timeline.quarantine.list('acme', { signal: 'timeline' });
      const byReason = (reason: string) => acmeQ.filter((q) => q.reason === reason);
      const rejected = byReason('timeline.store_rejected');
      expect(rejected.map((q) => q.error).sort()).toEqual([
        expect.stringMatching(/^SQLSTATE 22023: test fixture refuses this value/),
        expect.stringMatching(/^SQLSTATE 23514: .*test_refuses_poison/),
        expect.stringMatching(/^SQLSTATE 54000: test fixture: value too large/),
      ]);
      for (const q of rejected) {
        const event = JSON.parse(q.payload!.toString('utf8')) as TimelineEvent;
        expect(event.resource_id).toMatch(/^poison-/);
        expect(q.source).toBe(`bus:${subject}#${event.event_id}`);
      }
      expect(byReason('timeline.event_invalid').map((q) => q.source).sort()).toEqual([`bus:${subject}#${yearZero.event_id}`, `bus:${subject}#bad-json`].sort());
      expect(byReason('timeline.event_invalid').find((q) => q.source.endsWith('#bad-json'))!.payload!.toString()).toBe('{"event_id": nope');
      expect(byReason('timeline.event_invalid').find((q) => q.source.endsWith(yearZero.event_id))!.error).toMatch(/^ts: .*1970 to 9999/);
      expect(byReason('timeline.digest_mismatch').map((q) => q.source)).toEqual([`bus:${subject}#${tampered.event_id}`]);
      expect(byReason('timeline.subject_mismatch').map((q) => q.source)).toEqual([`bus:${subject}#${foreign.event_id}`]);
      expect(acmeQ).toHaveLength(7);
      const globexQ = await timeline.quarantine.list('globex');
      expect(globexQ.map((q) => [q.reason, q.error.slice(0, 15)])).toEqual([['timeline.store_rejected', 'SQLSTATE 23514:']]);

      const stats = timeline.indexer.stats;
      expect(stats.stored - before.stored).toBe(600);
      expect(stats.quarantined - before.quarantined).toBe(8);
      expect(stats.rejected - before.rejected).toBe(9);
      expect(timeline.quarantine.counts.get('timeline/acme/timeline.store_rejected')).toBe(3);

      // The indexer keeps going: later events, through the API, are stored.
      const token = await s.service.devAuthority!.mint({ tenant: 'acme', scopes: ['timeline:read', 'timeline:write'] });
      const res = await s.service.app.inject({ method: 'POST', url: '/timeline/events', headers: { authorization: `Bearer ${token}` }, payload: { events: [{ kind: 'sbom.ingested', resource_id: 'after-poison' }] } });
      expect(res.statusCode, res.body).toBe(202);
      const id = res.json<{ events: { event_id: string }[] }>().events[0]!.event_id;
      await eventually(async () => ((await s.service.app.inject({ method: 'GET', url: `/timeline/${id}`, headers: { authorization: `Bearer ${token}` } })).statusCode === 200 ? true : undefined), 20_000, 'event after the poison');
    });

    it('a batch of nothing but poison is quarantined and acknowledged too', async () => {
      const poison = build('initech', 'poison-check');
      await publishEvent(poison);
      await eventually(async () => ((await timeline.quarantine.list('initech')).length === 1 ? true : undefined), 20_000, 'the lone poison quarantined');
      await eventually(async () => ((await bus.backlog()) === 0 ? true : undefined), 20_000, 'acknowledged');
      expect(await count('initech')).toBe(0);
    });

    it('retries the whole batch while the store is unreachable, and quarantines nothing', async () => {
      // A second indexer over the same bus and store whose inserts fail like a lost connection, twice.
      let outages = 2;
      const deliveries: number[] = [];
      const repository = new TimelineRepository(s.service.store, 180);
      const insertBatch = repository.insertBatch.bind(repository);
      repository.insertBatch = async (tenant, events) => {
        if (outages > 0) {
          outages--;
          throw new StoreError('store.unavailable', 'the database is unreachable', { cause: Object.assign(new Error('Connection terminated'), { code: '08006' }) });
        }
        return insertBatch(tenant, events);
      };
      const indexer = new TimelineIndexer({ bus, repository, quarantine: timeline.quarantine, logger: createLogger({ service: 'test', level: 'fatal' }), durable: 'outage-test', subjectPrefix: 'stella' });
      const handle = indexer.handle.bind(indexer);
      indexer.handle = async (batch: readonly BusMessage[]) => {
        deliveries.push(batch[0]!.deliveryCount);
        return handle(batch);
      };
      // Only this indexer consumes meanwhile, and it is there before the event is published.
      await timeline.indexer.stop();
      await indexer.start();
      const event = build('hooli', 'during-outage');
      await publishEvent(event);
      try {
        await eventually(async () => ((await storedIds('hooli')).has(event.event_id) ? true : undefined), 30_000, 'stored once the store is back');
        expect(deliveries.slice(0, 3)).toEqual([1, 2, 3]);
        expect(await timeline.quarantine.list('hooli')).toEqual([]);
        expect(indexer.stats.quarantined).toBe(0);
      } finally {
        await indexer.stop();
        await timeline.indexer.start();
      }
    });
  });
}
