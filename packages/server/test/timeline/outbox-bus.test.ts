/**
 * The embedded bus's durable log: a publish resolves after its row committed; consumers get
 * messages from memory, resume from their cursor after a restart, fall back to reading the
 * table when far behind; acknowledged rows are deleted; redelivery and de-duplication behave
 * as the in-process bus did. Runs on PGlite (the embedded default) and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusMessage } from '@stellaops/telemetry-core';
import { CORE_MIGRATIONS, PgliteStore, PostgresStore, type SqlStore } from '../../src/index.js';
import { OutboxBus, type OutboxBusOptions } from '../../src/bus/outbox-bus.js';
import { createTestDatabase, eventually, postgresAvailable, type TestDatabase } from '../helpers/external.js';

const pgUp = await postgresAvailable();

interface Engine {
  name: string;
  available: boolean;
  open(): Promise<{ store: () => Promise<SqlStore>; cleanup(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'PGlite',
    available: true,
    open: async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'stella-outbox-'));
      return {
        store: () => PgliteStore.open({ dataDir, migrations: [CORE_MIGRATIONS] }),
        cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    available: pgUp,
    open: async () => {
      const db: TestDatabase = await createTestDatabase();
      return {
        store: () => PostgresStore.open({ url: db.appUrl, ownerUrl: db.ownerUrl, appRole: db.appRole, poolSize: 4, migrations: [CORE_MIGRATIONS] }),
        cleanup: () => db.drop(),
      };
    },
  },
];

const text = (m: BusMessage): string => Buffer.from(m.data).toString('utf8');
const publishMany = (bus: OutboxBus, n: number, from = 0, subject = (i: number) => `stella.acme.timeline.k${i % 3}`) =>
  Promise.all(Array.from({ length: n }, (_, k) => bus.publish(subject(from + k), Buffer.from(`m${from + k}`), { msgId: `id-${from + k}` })));

for (const engine of engines) {
  describe.skipIf(!engine.available)(`OutboxBus on ${engine.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function setup(options: Partial<OutboxBusOptions> = {}): Promise<{ store: SqlStore; bus: OutboxBus; reopen: (o?: Partial<OutboxBusOptions>) => Promise<{ store: SqlStore; bus: OutboxBus }> }> {
      const env = await engine.open();
      cleanups.push(() => env.cleanup());
      let store = await env.store();
      let bus = await OutboxBus.open({ store, ...options });
      cleanups.push(async () => {
        await bus.close(1000);
        await store.close();
      });
      return {
        store,
        bus,
        reopen: async (o = {}) => {
          await bus.close(1000);
          await store.close();
          store = await env.store();
          bus = await OutboxBus.open({ store, ...options, ...o });
          return { store, bus };
        },
      };
    }

    it('commits before resolving, coalesces concurrent publishes, delivers in order from memory', async () => {
      const { bus } = await setup();
      const got: string[] = [];
      await bus.consume({ durable: 'c1', filterSubject: 'stella.*.timeline.>', handler: async (batch) => void got.push(...batch.map(text)) });
      const results = await publishMany(bus, 500);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      await eventually(async () => (got.length === 500 ? true : undefined), 10_000, '500 deliveries');
      expect(got).toEqual(Array.from({ length: 500 }, (_, i) => `m${i}`));
    });

    it('commits a burst of publishes in one transaction (group commit)', async () => {
      const { store, bus } = await setup();
      const tenantTransaction = store.tenantTransaction.bind(store);
      let transactions = 0;
      store.tenantTransaction = (tenant, fn) => {
        transactions++;
        return tenantTransaction(tenant, fn);
      };
      await publishMany(bus, 1000);
      expect(transactions).toBe(1);
      await Promise.all([publishMany(bus, 10, 1000), publishMany(bus, 10, 2000)]);
      expect(transactions).toBe(2);
      store.tenantTransaction = tenantTransaction;
      expect(await bus.backlog()).toBe(1020);
    });

    it('drops a duplicate id inside the window, also while the first copy is being committed', async () => {
      const { bus } = await setup();
      const [a, b] = await Promise.all([bus.publish('stella.acme.timeline.x', Buffer.from('1'), { msgId: 'same' }), bus.publish('stella.acme.timeline.x', Buffer.from('2'), { msgId: 'same' })]);
      expect([a.duplicate, b.duplicate]).toEqual([false, true]);
      expect((await bus.publish('stella.acme.timeline.x', Buffer.from('3'), { msgId: 'same' })).duplicate).toBe(true);
      expect(await bus.backlog()).toBe(1);
    });

    it('keeps every published message across a restart and resumes each durable after its cursor', async () => {
      const { bus, reopen } = await setup();
      const first: string[] = [];
      const consumer = await bus.consume({ durable: 'idx', filterSubject: 'stella.*.timeline.>', maxBatch: 10, handler: async (batch) => void first.push(...batch.map(text)) });
      await publishMany(bus, 30);
      await eventually(async () => (first.length === 30 ? true : undefined), 10_000, 'first 30');
      await consumer.stop();
      // Published while the consumer is stopped, and a subject nobody consumes.
      await publishMany(bus, 40, 30);
      await bus.publish('stella.acme.slo.breach', Buffer.from('breach'), { msgId: 'breach-1' });

      const { bus: again } = await reopen();
      const second: BusMessage[] = [];
      await again.consume({ durable: 'idx', filterSubject: 'stella.*.timeline.>', maxBatch: 7, handler: async (batch) => void second.push(...batch) });
      await eventually(async () => (second.length === 40 ? true : undefined), 10_000, 'the 40 published while stopped');
      expect(second.map(text)).toEqual(Array.from({ length: 40 }, (_, i) => `m${30 + i}`));
      expect(second.map((m) => m.id)).toEqual(Array.from({ length: 40 }, (_, i) => `id-${30 + i}`));
      // Then it is live again.
      await publishMany(bus === again ? bus : again, 5, 70);
      await eventually(async () => (second.length === 45 ? true : undefined), 10_000, 'live after catching up');
      // Everything acknowledged by every durable is deleted.
      await eventually(async () => ((await again.backlog()) === 0 ? true : undefined), 10_000, 'acknowledged rows deleted');
    });

    it('redelivers a rejected batch with a higher delivery count, and never loses it', async () => {
      const { bus } = await setup({ redeliveryDelayMs: 5 });
      const seen: number[] = [];
      let fail = 3;
      await bus.consume({
        durable: 'flaky',
        filterSubject: 'stella.*.timeline.>',
        handler: async (batch) => {
          seen.push(batch[0]!.deliveryCount);
          expect(batch[0]!.maxDeliveries).toBeUndefined();
          if (fail-- > 0) throw new Error('store down');
        },
      });
      await bus.publish('stella.acme.timeline.x', Buffer.from('x'), { msgId: 'flaky-1' });
      await eventually(async () => (seen.length === 4 ? true : undefined), 10_000, 'four deliveries');
      expect(seen).toEqual([1, 2, 3, 4]);
      await eventually(async () => ((await bus.backlog()) === 0 ? true : undefined), 10_000, 'acknowledged');
    });

    it('a consumer far behind reads the rest from the table, in order, with bounded memory', async () => {
      const { bus } = await setup({ maxPending: 50, pageSize: 20 });
      const got: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let maxQueued = 0;
      await bus.consume({
        durable: 'slow',
        filterSubject: 'stella.*.timeline.>',
        maxBatch: 10,
        handler: async (batch) => {
          await gate;
          maxQueued = Math.max(maxQueued, bus.pending('slow'));
          got.push(...batch.map(text));
        },
      });
      await publishMany(bus, 400);
      expect(bus.pending('slow')).toBeLessThanOrEqual(50);
      release();
      await eventually(async () => (got.length === 400 ? true : undefined), 20_000, '400 deliveries');
      expect(got).toEqual(Array.from({ length: 400 }, (_, i) => `m${i}`));
      expect(maxQueued).toBeLessThanOrEqual(50);
    });

    it('filters by subject and keeps rows until every durable that is still used has them', async () => {
      const { bus, reopen } = await setup({ abandonAfterMs: 60_000 });
      const timeline: string[] = [];
      const incidents: string[] = [];
      await bus.consume({ durable: 'tl', filterSubject: 'stella.*.timeline.>', handler: async (b) => void timeline.push(...b.map(text)) });
      const inc = await bus.consume({ durable: 'inc', filterSubject: 'stella.*.incident.mode', handler: async (b) => void incidents.push(...b.map(text)) });
      await inc.stop();
      await bus.publish('stella.acme.incident.mode', Buffer.from('on'), { msgId: 'i1' });
      await publishMany(bus, 10);
      await eventually(async () => (timeline.length === 10 ? true : undefined), 10_000, 'timeline');
      // The stopped durable still holds its message (and what follows it).
      expect(await bus.backlog()).toBeGreaterThanOrEqual(1);
      const { bus: again } = await reopen();
      await again.consume({ durable: 'inc', filterSubject: 'stella.*.incident.mode', handler: async (b) => void incidents.push(...b.map(text)) });
      await eventually(async () => (incidents.length === 1 ? true : undefined), 10_000, 'the held incident message');
      expect(incidents).toEqual(['on']);
      expect(timeline).toHaveLength(10);
    });

    it('forgets a durable name nobody consumed under for too long, so it stops holding rows', async () => {
      let now = Date.now();
      const { bus, reopen } = await setup({ abandonAfterMs: 1000, clock: () => now });
      const old = await bus.consume({ durable: 'incident-mode-old-process', filterSubject: 'stella.*.incident.mode', handler: async () => undefined });
      await old.stop();
      const { bus: again } = await reopen();
      const got: string[] = [];
      await again.consume({ durable: 'tl', filterSubject: 'stella.*.timeline.>', handler: async (b) => void got.push(...b.map(text)) });
      await publishMany(again, 5);
      await eventually(async () => (got.length === 5 ? true : undefined), 10_000, 'five');
      expect(await again.backlog()).toBe(5); // held for the old name, still inside its grace period
      // Past the grace period, whatever the (real) time the database recorded as the name's last use.
      now = Date.now() + 60_000;
      await publishMany(again, 1, 5);
      await eventually(async () => ((await again.backlog()) === 0 ? true : undefined), 10_000, 'rows released once the name is abandoned');
    });

    it('refuses publishes after close and reports the store through ping', async () => {
      const { bus } = await setup();
      await bus.ping();
      await bus.close();
      await expect(bus.publish('stella.acme.timeline.x', Buffer.from('x'), { msgId: 'late' })).rejects.toMatchObject({ code: 'bus.closed' });
      await expect(bus.ping()).rejects.toMatchObject({ code: 'bus.unavailable' });
    });
  });
}
