/**
 * Timeline ingest and query, one run per engine (embedded PGlite, and PostgreSQL when
 * reachable on 127.0.0.1:5432):
 *  - baseline: batched inserts straight into the store (the ceiling of any ingest path);
 *  - emitter → bus → indexer → store (in-process bus; with --nats also NATS JetStream);
 *  - POST /timeline/events over HTTP → bus → indexer → store;
 *  - tenant page latency (p50/p95, newest-first pages, cursor pages, filtered pages) with
 *    --load events in the tenant (1M by default) and a second tenant beside it.
 * Ratios compare each path with the baseline of the same run, and latencies with the target.
 *
 * Usage: npm run bench -- timeline [--ingest 100000] [--load 1000000] [--engines pglite,postgres] [--nats] [--queries 300]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildTimelineEvent, createLogger, TimelineEmitter, withContext, type TimelineEvent } from '@stellaops/telemetry-core';
import { createService, NatsJetStreamBus, resolveConfig, TimelineIndexer, type StellaService, type TimelineRuntime } from '@stellaops/server';

const TARGETS = { pglite: 50_000, postgres: 100_000, p95Ms: 20 };
const DAY = 86_400_000;

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined && !args[i + 1]!.startsWith('--') ? args[i + 1]! : fallback;
}

function makeEvents(tenant: string, n: number, offset: number, now: number): TimelineEvent[] {
  const kinds = ['sbom.ingested', 'policy.evaluated', 'advisory.linked', 'vex.reconciled', 'export.completed'];
  const out: TimelineEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    out[i] = buildTimelineEvent({
      kind: kinds[k % kinds.length]!,
      tenant_id: tenant,
      project_id: `proj-${k % 20}`,
      actor: 'svc-bench',
      resource_type: 'sbom',
      resource_id: `sbom-${k % 5000}`,
      trace_id: randomBytes(16).toString('hex'),
      // Spread over 170 days so every event sits inside the default 180-day retention.
      ts: new Date(now - ((k * 7919) % (170 * DAY))).toISOString(),
      details: { component_count: 300 + (k % 50), policy_version: 'baseline@7' },
    });
  }
  return out;
}

async function countRows(service: StellaService, tenant: string): Promise<number> {
  return service.store.tenantTransaction(tenant, async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events WHERE tenant_id = $1', [tenant])).rows[0]!.n);
}

async function waitRows(service: StellaService, tenant: string, want: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await countRows(service, tenant)) < want) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${want} events of ${tenant}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const rate = (n: number, ms: number): number => Math.round(n / (ms / 1000));
const fmt = (n: number): string => n.toLocaleString('en-US');

interface Engine {
  name: 'pglite' | 'postgres';
  env: Record<string, string>;
  cleanup: () => Promise<void>;
}

async function postgresEngine(): Promise<Engine | undefined> {
  const suffix = randomBytes(4).toString('hex');
  const db = `stella_bench_${suffix}`;
  const role = `stella_bench_app_${suffix}`;
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    console.log('postgres: 127.0.0.1:5432 unreachable, skipped');
    return undefined;
  }
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
  await admin.end();
  return {
    name: 'postgres',
    env: {
      STELLA_DATABASE_URL: `postgres://${role}@127.0.0.1:5432/${db}`,
      STELLA_DATABASE_OWNER_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
      STELLA_DATABASE_APP_ROLE: role,
      STELLA_DATABASE_POOL_SIZE: '8',
    },
    cleanup: async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
      await c.end();
    },
  };
}

async function benchEngine(engine: Engine, opts: { ingest: number; load: number; queries: number; nats: boolean }): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-bench-'));
  const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'error'], engine.env);
  const service = await createService({ config });
  const now = Date.now();
  // Printed as measured: a long --load run shows progress.
  const results = { push: ([k, v]: [string, string]): void => console.log(`${k.padEnd(44)} ${v}`) };
  try {
    const address = await service.listen();
    const timeline = service.features.get('timeline') as TimelineRuntime;
    console.log(`\n== ${engine.name} (${service.store.engine}, bus ${service.bus.kind}) ==`);

    // Baseline: batches of 2000 straight into the store.
    const baseEvents = makeEvents('bench-base', opts.ingest, 0, now);
    let t = performance.now();
    for (let i = 0; i < baseEvents.length; i += 2000) await timeline.repository.insertBatch('bench-base', baseEvents.slice(i, i + 2000));
    const baseline = rate(opts.ingest, performance.now() - t);
    results.push(['store baseline (batched insert)', `${fmt(baseline)} ev/s  1.00x`]);

    // Emitter → in-process bus → indexer.
    const emitter = service.emitter;
    t = performance.now();
    await withContext({ tenant_id: 'bench-emit', actor: 'svc-bench' }, async () => {
      for (let i = 0; i < opts.ingest; i += 1000) {
        const chunk: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(i + 1000, opts.ingest); j++) {
          chunk.push(emitter.emit({ kind: 'policy.evaluated', resource_type: 'sbom', resource_id: `sbom-${j % 5000}`, details: { component_count: 300 + (j % 50) } }));
        }
        await Promise.all(chunk);
      }
    });
    await waitRows(service, 'bench-emit', opts.ingest);
    const emitRate = rate(opts.ingest, performance.now() - t);
    results.push([`emitter → ${service.bus.kind} bus → indexer`, `${fmt(emitRate)} ev/s  ${(emitRate / baseline).toFixed(2)}x of baseline`]);

    // POST /timeline/events over HTTP, 4 concurrent clients, 500 events per request.
    const token = await service.devAuthority!.mint({ tenant: 'bench-http', scopes: ['timeline:write'] });
    const body = (from: number): string =>
      JSON.stringify({ events: Array.from({ length: 500 }, (_, k) => ({ kind: 'sbom.ingested', resource_type: 'sbom', resource_id: `sbom-${(from + k) % 5000}`, details: { n: from + k } })) });
    t = performance.now();
    let next = 0;
    const requests = Math.ceil(opts.ingest / 500);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < requests) {
          const i = next++;
          const res = await fetch(`${address}/timeline/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body(i * 500) });
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
        }
      }),
    );
    await waitRows(service, 'bench-http', requests * 500);
    const httpRate = rate(requests * 500, performance.now() - t);
    results.push(['POST /timeline/events → bus → indexer', `${fmt(httpRate)} ev/s  ${(httpRate / baseline).toFixed(2)}x of baseline`]);

    if (opts.nats && engine.name !== undefined) {
      const run = randomBytes(4).toString('hex');
      const prefix = `stellabench${run}`;
      const bus = await NatsJetStreamBus.connect({ servers: '127.0.0.1:4222', stream: `STELLA_BENCH_${run}`, subjectPrefix: prefix });
      const indexer = new TimelineIndexer({ bus, repository: timeline.repository, logger: createLogger({ service: 'bench', level: 'fatal' }), durable: `bench-${run}`, subjectPrefix: prefix });
      try {
        await indexer.start();
        const natsEmitter = new TimelineEmitter({ bus, subjectPrefix: prefix });
        t = performance.now();
        await withContext({ tenant_id: 'bench-nats' }, async () => {
          for (let i = 0; i < opts.ingest; i += 1000) {
            const chunk: Promise<unknown>[] = [];
            for (let j = i; j < Math.min(i + 1000, opts.ingest); j++) chunk.push(natsEmitter.emit({ kind: 'vex.reconciled', resource_id: `v-${j}` }));
            await Promise.all(chunk);
          }
        });
        await waitRows(service, 'bench-nats', opts.ingest);
        const natsRate = rate(opts.ingest, performance.now() - t);
        results.push(['emitter → NATS JetStream → indexer', `${fmt(natsRate)} ev/s  ${(natsRate / baseline).toFixed(2)}x of baseline`]);
      } finally {
        await indexer.stop();
        await bus.deleteStream().catch(() => undefined);
        await bus.close();
      }
    }

    // Load the query tenant to --load events, and a neighbour tenant with a fifth of that.
    t = performance.now();
    for (const [tenant, total] of [
      ['bench-query', opts.load],
      ['bench-neighbour', Math.floor(opts.load / 5)],
    ] as const) {
      for (let i = 0; i < total; i += 10_000) {
        await timeline.repository.insertBatch(tenant, makeEvents(tenant, Math.min(10_000, total - i), i, now));
      }
    }
    const loadMs = performance.now() - t;
    results.push([`load ${fmt(opts.load + Math.floor(opts.load / 5))} events (2 tenants)`, `${(loadMs / 1000).toFixed(1)} s, ${fmt(rate(opts.load * 1.2, loadMs))} ev/s`]);

    const qToken = await service.devAuthority!.mint({ tenant: 'bench-query', scopes: ['timeline:read'] });
    const get = async (q: string): Promise<{ ms: number; body: { events: unknown[]; next_cursor: string | null } }> => {
      const start = performance.now();
      const res = await fetch(`${address}/timeline?${q}`, { headers: { authorization: `Bearer ${qToken}` } });
      const body = (await res.json()) as { events: unknown[]; next_cursor: string | null };
      if (res.status !== 200) throw new Error(`query answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: performance.now() - start, body };
    };
    for (let i = 0; i < 20; i++) await get('limit=100'); // warm-up
    const scenarios: [string, (i: number, cursor: string | null) => string][] = [
      ['newest page (limit 100)', () => 'limit=100'],
      ['cursor walk (limit 100)', (_i, cursor) => `limit=100${cursor ? `&cursor=${cursor}` : ''}`],
      ['resource filter (limit 100)', (i) => `limit=100&resource_type=sbom&resource_id=sbom-${i % 5000}`],
      ['kind prefix + project (limit 100)', (i) => `limit=100&kind=policy.*&project=proj-${i % 20}`],
      ['one-day window (limit 1000)', (i) => `limit=1000&from=${new Date(now - (i % 150 + 2) * DAY).toISOString()}&to=${new Date(now - (i % 150 + 1) * DAY).toISOString()}`],
    ];
    for (const [name, query] of scenarios) {
      const times: number[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < opts.queries; i++) {
        const { ms, body: page } = await get(query(i, cursor));
        cursor = page.next_cursor;
        times.push(ms);
      }
      times.sort((a, b) => a - b);
      const p95 = percentile(times, 95);
      results.push([`query: ${name}`, `p50 ${percentile(times, 50).toFixed(2)} ms  p95 ${p95.toFixed(2)} ms  (${(p95 / TARGETS.p95Ms).toFixed(2)}x of the ${TARGETS.p95Ms} ms target)`]);
    }
    const target = TARGETS[engine.name];
    results.push(['ingest target', `${fmt(target)} ev/s: emitter path ${(emitRate / target).toFixed(2)}x, HTTP path ${(httpRate / target).toFixed(2)}x of target`]);
  } finally {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    await engine.cleanup();
  }
}

export default async function run(args: string[] = []): Promise<void> {
  const opts = {
    ingest: Number(flag(args, 'ingest', '100000')),
    load: Number(flag(args, 'load', '1000000')),
    queries: Number(flag(args, 'queries', '300')),
    nats: args.includes('--nats'),
  };
  const engines = flag(args, 'engines', 'pglite,postgres').split(',');
  console.log(`timeline bench: ingest ${fmt(opts.ingest)} events per path, ${fmt(opts.load)} loaded for queries, ${opts.queries} queries per scenario`);
  if (engines.includes('pglite')) await benchEngine({ name: 'pglite', env: {}, cleanup: async () => undefined }, opts);
  if (engines.includes('postgres')) {
    const engine = await postgresEngine();
    if (engine) await benchEngine(engine, opts);
  }
}
