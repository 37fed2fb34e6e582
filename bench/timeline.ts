/**
 * Timeline ingest and query, one run per engine (embedded PGlite, and PostgreSQL when
 * reachable on 127.0.0.1:5432):
 *  - baseline: batched inserts straight into the store (the ceiling of any ingest path), with
 *    and without the query indexes of migration 0007, so what they cost ingest is measured;
 *  - emitter → bus → indexer → store (the service's own bus: without NATS the durable outbox bus in the
 *    same store; with --nats also NATS JetStream);
 *  - POST /timeline/events over HTTP → bus → indexer → store;
 *  - page latency (p50/p95) of every query shape `GET /timeline` offers, through HTTP, with
 *    --load events in the tenant (1M by default) and a neighbour tenant with a fifth of that.
 * Ratios compare each path with the baseline of the same run, and latencies with the target.
 *
 * The --load fixture is generated inside the database (INSERT … SELECT FROM generate_series,
 * 100,000 rows a statement, the two tenants interleaved): a fixture, not an ingest measurement.
 * Its events are complete — UUIDv7 ids of their millisecond, canonical SHA-256 digests (checked
 * on a sample through the API) — spread evenly over 170 days, mostly in time order (up to a
 * minute early, like ingest), with a realistic mix of kinds (common ones, several under one
 * prefix, rare `audit.*`), 20 projects, traces of 8 events and resources of four types.
 * PostgreSQL is then vacuumed and analysed as autovacuum would (the embedded store never is) and
 * PGlite checkpointed (it has no background writer).
 *
 * Usage: npm run bench -- timeline [--ingest 100000] [--load 1000000] [--engines pglite,postgres]
 *          [--nats] [--queries 300] [--explain] [--only kind,window]
 *   --ingest 0   skips the ingest paths (page latencies only)
 *   --explain    prints EXPLAIN (ANALYZE, BUFFERS) of the first page of each query shape
 *   --only w1,w2 measures only the query shapes whose name contains one of the words
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildTimelineEvent, createLogger, timelineEventDigest, TimelineEmitter, withContext, type TimelineEvent } from '@stellaops/telemetry-core';
import {
  createService,
  NatsJetStreamBus,
  resolveConfig,
  TimelineIndexer,
  TimelineRepository,
  type SqlStore,
  type StellaService,
  type TimelineRuntime,
} from '@stellaops/server';

const TARGETS = { pglite: 50_000, postgres: 100_000, p95Ms: 20 };
const DAY = 86_400_000;
const HOUR = 3_600_000;

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

// --- the query fixture

/** Kinds of the fixture, with their share per 1000 events. */
const FIXTURE_KINDS: readonly (readonly [string, number])[] = [
  ['sbom.ingested', 200],
  ['policy.evaluated', 200],
  ['advisory.linked', 200],
  ['vex.reconciled', 150],
  ['export.completed', 100],
  ['job.started', 60],
  ['job.finished', 55],
  ['job.failed', 5],
  ['evidence.snapshot.committed', 20],
  ['evidence.snapshot.requested', 8],
  ['audit.timeline.retention_changed', 1],
  ['audit.token.issued', 1],
];
const FIXTURE_PREFIXES = ['policy.*', 'job.*', 'evidence.*', 'audit.*', 'evidence.snapshot.*'];
const FIXTURE_SPAN_MS = 170 * DAY;
const FIXTURE_BATCH = 100_000;

/** 1000 kind slots in a fixed shuffled order: event k has the kind of slot k % 1000. */
function kindSlots(): string[] {
  const slots = FIXTURE_KINDS.flatMap(([kind, n]) => Array.from({ length: n }, () => kind));
  let seed = 0x2545f491;
  for (let i = slots.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  return slots;
}

/**
 * Events k in [$2, $3) of tenant $1: ts = $4 + k·$5 ms, up to a minute early; kind from the
 * slot table $6; project (k + k/1000) mod 20, so every kind meets every project; a trace per 8
 * consecutive events; a resource by kind family. The digest is SHA-256 over the same canonical
 * JSON as `timelineEventDigest` (keys sorted, no whitespace, ts in `toISOString()` form).
 */
const FIXTURE_SQL = `
INSERT INTO timeline_events (tenant_id, event_id, ts, project_id, kind, actor, resource_type, resource_id, trace_id, details, digest)
SELECT $1, event_id, ts, project_id, kind, 'svc-bench', resource_type, resource_id, trace_id,
       jsonb_build_object('component_count', cc, 'policy_version', 'baseline@7'),
       'sha256:' || encode(sha256(convert_to(concat(
         '{"actor":"svc-bench","details":{"component_count":', cc, ',"policy_version":"baseline@7"},"event_id":"', event_id::text,
         '","kind":"', kind, '","project_id":"', project_id, '","resource_id":"', resource_id, '","resource_type":"', resource_type,
         '","tenant_id":"', $1::text, '","trace_id":"', trace_id, '","ts":"', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '"}'), 'UTF8')), 'hex')
FROM (
  SELECT kind, cc, project_id, trace_id,
         to_timestamp(ms / 1000) + (ms % 1000) * interval '1 millisecond' AS ts,
         (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid AS event_id,
         CASE split_part(kind, '.', 1) WHEN 'job' THEN 'job' WHEN 'evidence' THEN 'evidence_bundle' WHEN 'audit' THEN 'tenant_settings' ELSE 'sbom' END AS resource_type,
         CASE split_part(kind, '.', 1) WHEN 'job' THEN 'job-' || (k / 4) % 20000 WHEN 'evidence' THEN 'bundle-' || k % 50000 WHEN 'audit' THEN $1::text ELSE 'sbom-' || k % 5000 END AS resource_id
  FROM (
    SELECT k, ($6::text[])[1 + (k % 1000)::int] AS kind, 300 + k % 50 AS cc,
           'proj-' || (k + k / 1000) % 20 AS project_id,
           md5($1::text || ':trace:' || k / 8) AS trace_id,
           md5($1::text || ':event:' || k) AS h,
           $4::bigint + floor(k * $5::float8)::bigint - (k * 7919) % 60000 AS ms
    FROM generate_series($2::bigint, $3::bigint - 1) AS k
  ) a
) e`;

export interface FixtureTenant {
  tenant: string;
  total: number;
}

/** Trace id of the fixture's event k (the md5 the SQL computes). */
const fixtureTrace = (tenant: string, k: number): string => createHash('md5').update(`${tenant}:trace:${Math.floor(k / 8)}`).digest('hex');

/** Loads the fixture tenants side by side in time, so their rows interleave in the table as they would in production. */
export async function loadFixture(store: SqlStore, tenants: readonly FixtureTenant[], now: number, progress: (done: number) => void): Promise<void> {
  const slots = kindSlots();
  const start = now - FIXTURE_SPAN_MS;
  const largest = Math.max(...tenants.map((t) => t.total));
  const batches = Math.ceil(largest / FIXTURE_BATCH);
  let done = 0;
  for (let b = 0; b < batches; b++) {
    for (const { tenant, total } of tenants) {
      const from = Math.floor((b * total) / batches);
      const to = Math.floor(((b + 1) * total) / batches);
      if (to <= from) continue;
      await store.tenantTransaction(tenant, async (tx) => {
        await tx.query('INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
        await tx.query(FIXTURE_SQL, [tenant, from, to, start, FIXTURE_SPAN_MS / total, slots]);
      });
      done += to - from;
    }
    progress(done);
  }
}

// --- owner access: dropping and restoring the 0007 indexes, vacuum and analyse

/** Migration 0007 (the query indexes), statement by statement, and what undoes it. */
const QUERY_INDEXES_ON = readFileSync(new URL('../packages/server/src/store/migrations/0007_timeline_query_indexes.sql', import.meta.url), 'utf8')
  .replace(/--.*$/gm, '')
  .split(';')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const QUERY_INDEXES_OFF = [
  'DROP INDEX timeline_events_tenant_kind_ts',
  'DROP INDEX timeline_events_tenant_project_kind_ts',
  'DROP INDEX timeline_events_tenant_resource_ts',
  'DROP INDEX timeline_events_tenant_resource_type_ts',
  'DROP INDEX timeline_events_tenant_trace_ts',
  'CREATE INDEX timeline_events_tenant_resource ON timeline_events (tenant_id, resource_type, resource_id, ts DESC)',
  'CREATE INDEX timeline_events_tenant_trace ON timeline_events (tenant_id, trace_id) WHERE trace_id IS NOT NULL',
];

interface Engine {
  name: 'pglite' | 'postgres';
  env: Record<string, string>;
  /** Runs statements as the schema owner (on PostgreSQL outside a transaction, so VACUUM works). */
  owner: (service: StellaService, statements: readonly string[]) => Promise<void>;
  cleanup: () => Promise<void>;
}

const pgliteEngine: Engine = {
  name: 'pglite',
  env: {},
  // PGlite's session user is its superuser; the store switches to the application role with SET
  // LOCAL ROLE, which RESET ROLE undoes for the rest of this one transaction.
  owner: (service, statements) =>
    service.store.tenantTransaction(null, async (tx) => {
      await tx.query('RESET ROLE');
      for (const sql of statements) await tx.query(sql);
    }),
  cleanup: async () => undefined,
};

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
  const ownerUrl = `postgres://postgres@127.0.0.1:5432/${db}`;
  return {
    name: 'postgres',
    env: {
      STELLA_DATABASE_URL: `postgres://${role}@127.0.0.1:5432/${db}`,
      STELLA_DATABASE_OWNER_URL: ownerUrl,
      STELLA_DATABASE_APP_ROLE: role,
      STELLA_DATABASE_POOL_SIZE: '8',
    },
    owner: async (_service, statements) => {
      const c = new pg.Client({ connectionString: ownerUrl });
      await c.connect();
      try {
        for (const sql of statements) await c.query(sql);
      } finally {
        await c.end();
      }
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

// --- measuring

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

/**
 * A store that prints EXPLAIN (ANALYZE, BUFFERS) of every timeline read before running it, for
 * a repository of its own: the plans of exactly the statements `page()` sends.
 */
function explainingStore(store: SqlStore): SqlStore {
  return {
    engine: store.engine,
    ping: () => store.ping(),
    close: async () => undefined,
    tenantTransaction: (tenant, fn) =>
      store.tenantTransaction(tenant, (tx) =>
        fn({
          query: async <R>(sql: string, params?: unknown[]) => {
            if (/^\s*(WITH|SELECT|\()/i.test(sql) && sql.includes('timeline_events')) {
              const plan = await tx.query<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
              console.log(`    ${sql.replace(/\s+/g, ' ').trim()}\n    params ${JSON.stringify(params)}`);
              for (const row of plan.rows) console.log(`      ${Object.values(row)[0]}`);
            }
            return tx.query<R>(sql, params);
          },
        }),
      ),
  };
}

/** The route's reading of a query string, for --explain. */
function pageQuery(qs: string, retentionDays: number): Parameters<TimelineRepository['page']>[1] {
  const p = new URLSearchParams(qs);
  const to = p.get('to') ? new Date(p.get('to')!) : new Date();
  const cursor = p.get('cursor') ? (JSON.parse(Buffer.from(p.get('cursor')!, 'base64url').toString('utf8')) as [string, string]) : undefined;
  return {
    from: p.get('from') ? new Date(p.get('from')!) : new Date(to.getTime() - retentionDays * DAY),
    to,
    kind: p.get('kind') ?? undefined,
    resource_type: p.get('resource_type') ?? undefined,
    resource_id: p.get('resource_id') ?? undefined,
    project_id: p.get('project') ?? undefined,
    trace_id: p.get('trace_id') ?? undefined,
    limit: Number(p.get('limit') ?? 100),
    cursor: cursor ? { ts: new Date(cursor[0]).toISOString(), event_id: cursor[1] } : undefined,
  };
}

/**
 * Page latencies of every query shape `GET /timeline` offers, through HTTP, on the fixture
 * tenant (`load` events generated at `now`); `only` keeps the shapes whose name contains one of
 * its comma-separated words.
 */
export async function measurePages(
  service: StellaService,
  address: string,
  opts: { tenant: string; load: number; now: number; queries: number; explain: boolean; only?: string | undefined },
  report: (row: [string, string]) => void,
): Promise<void> {
  const { tenant, now } = opts;
  const qToken = await service.devAuthority!.mint({ tenant, scopes: ['timeline:read'] });
  const get = async (q: string): Promise<{ ms: number; body: { events: (TimelineEvent & { ingested_at?: string })[]; next_cursor: string | null } }> => {
    const start = performance.now();
    const res = await fetch(`${address}/timeline?${q}`, { headers: { authorization: `Bearer ${qToken}` } });
    const body = (await res.json()) as { events: (TimelineEvent & { ingested_at?: string })[]; next_cursor: string | null };
    if (res.status !== 200) throw new Error(`query answered ${res.status}: ${JSON.stringify(body)}`);
    return { ms: performance.now() - start, body };
  };
  // The fixture is what the API would have stored: every digest of a sample recomputes.
  const sample = (await get('limit=50')).body.events;
  for (const { ingested_at: _ingested, ...event } of sample) {
    if (timelineEventDigest(event) !== event.digest) throw new Error(`fixture event ${event.event_id} does not match its digest`);
  }
  if (sample.length !== 50) throw new Error(`fixture: expected 50 events on the newest page, got ${sample.length}`);
  for (let i = 0; i < 20; i++) await get('limit=100'); // warm-up

  const iso = (ms: number): string => new Date(ms).toISOString();
  const kinds = FIXTURE_KINDS.map(([kind]) => kind);
  const project = (i: number): string => `proj-${(i * 7) % 20}`;
  // Resources of the four types in turn: an sbom (≈ 1 in 6,250 events), a job, an evidence bundle, the tenant's settings.
  const resource = (i: number): [string, string] =>
    (
      [
        ['sbom', `sbom-${(i * 37) % 5000}`],
        ['job', `job-${(i * 7919) % 20000}`],
        ['evidence_bundle', `bundle-${(i * 7919) % 50000}`],
        ['tenant_settings', tenant],
      ] as [string, string][]
    )[i % 4]!;
  const scenarios: [string, (i: number, cursor: string | null) => string][] = [
    ['newest page (limit 100)', () => 'limit=100'],
    ['cursor walk (limit 100)', (_i, cursor) => `limit=100${cursor ? `&cursor=${cursor}` : ''}`],
    ['kind exact, each of 12 (limit 100)', (i) => `limit=100&kind=${kinds[i % kinds.length]}`],
    ['kind prefix, each of 5 (limit 100)', (i) => `limit=100&kind=${FIXTURE_PREFIXES[i % FIXTURE_PREFIXES.length]}`],
    ['kind prefix, cursor walk (limit 100)', (_i, cursor) => `limit=100&kind=job.*${cursor ? `&cursor=${cursor}` : ''}`],
    ['kind prefix + project (limit 100)', (i) => `limit=100&kind=${FIXTURE_PREFIXES[i % FIXTURE_PREFIXES.length]}&project=${project(i)}`],
    ['kind exact + project (limit 100)', (i) => `limit=100&kind=${kinds[i % kinds.length]}&project=${project(i)}`],
    ['project (limit 100)', (i) => `limit=100&project=${project(i)}`],
    ['resource_type + resource_id (limit 100)', (i) => `limit=100&resource_type=${resource(i)[0]}&resource_id=${resource(i)[1]}`],
    ['resource_id alone (limit 100)', (i) => `limit=100&resource_id=${resource(i)[1]}`],
    ['resource_type alone (limit 100)', (i) => `limit=100&resource_type=${resource(i)[0]}`],
    ['trace_id (limit 100)', (i) => `limit=100&trace_id=${fixtureTrace(tenant, Math.floor((i * 2_654_435_761) % opts.load))}`],
    ['one-day window (limit 1000)', (i) => `limit=1000&from=${iso(now - ((i % 150) + 2) * DAY)}&to=${iso(now - ((i % 150) + 1) * DAY)}`],
    ['one-hour window (limit 100)', (i) => `limit=100&from=${iso(now - (((i * 37) % 3600) + 49) * HOUR)}&to=${iso(now - (((i * 37) % 3600) + 48) * HOUR)}`],
  ];
  const only = opts.only?.split(',').filter((w) => w.length > 0);
  const explainer = opts.explain ? new TimelineRepository(explainingStore(service.store), service.config.timelineRetentionDays) : undefined;
  for (const [name, query] of scenarios) {
    if (only && !only.some((w) => name.includes(w))) continue;
    if (explainer) {
      console.log(`  plan of ${name}: ${query(0, null)}`);
      await explainer.page(tenant, pageQuery(query(0, null), service.config.timelineRetentionDays));
    }
    const times: number[] = [];
    let rows = 0;
    let cursor: string | null = null;
    for (let i = 0; i < opts.queries; i++) {
      const { ms, body: page } = await get(query(i, cursor));
      cursor = page.next_cursor;
      rows += page.events.length;
      times.push(ms);
    }
    times.sort((a, b) => a - b);
    const p95 = percentile(times, 95);
    report([
      `query: ${name}`,
      `p50 ${percentile(times, 50).toFixed(2)} ms  p95 ${p95.toFixed(2)} ms  (${(p95 / TARGETS.p95Ms).toFixed(2)}x of the ${TARGETS.p95Ms} ms target)  ${Math.round(rows / opts.queries)} rows/page`,
    ]);
  }
}

async function benchEngine(engine: Engine, opts: { ingest: number; load: number; queries: number; nats: boolean; explain: boolean; only: string | undefined }): Promise<void> {
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

    if (opts.ingest > 0) {
      // Baseline: batches of 2000 straight into the store, with every index (A) and without the
      // query indexes of migration 0007 (B), in interleaved halves A B A B so load drift evens out.
      const insertMs = async (tenant: string, from: number, n: number): Promise<number> => {
        const events = makeEvents(tenant, n, from, now);
        const t0 = performance.now();
        for (let i = 0; i < events.length; i += 2000) await timeline.repository.insertBatch(tenant, events.slice(i, i + 2000));
        return performance.now() - t0;
      };
      const half = Math.ceil(opts.ingest / 2);
      let withMs = await insertMs('bench-base', 0, half);
      await engine.owner(service, QUERY_INDEXES_OFF);
      let withoutMs = await insertMs('bench-base-pre0007', 0, half);
      await engine.owner(service, QUERY_INDEXES_ON);
      withMs += await insertMs('bench-base', half, opts.ingest - half);
      await engine.owner(service, QUERY_INDEXES_OFF);
      withoutMs += await insertMs('bench-base-pre0007', half, opts.ingest - half);
      await engine.owner(service, QUERY_INDEXES_ON);
      const baseline = rate(opts.ingest, withMs);
      const before0007 = rate(opts.ingest, withoutMs);
      results.push(['store baseline (batched insert)', `${fmt(baseline)} ev/s  1.00x`]);
      results.push(['  the same without the 0007 query indexes', `${fmt(before0007)} ev/s  (the indexes cost ${(100 * (1 - baseline / before0007)).toFixed(1)}% of it)`]);

      // Emitter → the service's bus (the durable outbox in the store) → indexer.
      const emitter = service.emitter;
      let t = performance.now();
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

      if (opts.nats) {
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
      const target = TARGETS[engine.name];
      results.push(['ingest target', `${fmt(target)} ev/s: emitter path ${(emitRate / target).toFixed(2)}x, HTTP path ${(httpRate / target).toFixed(2)}x of target`]);
    }

    // The query tenant with --load events and a neighbour with a fifth of that, generated in the database.
    const tenant = 'bench-query';
    const neighbour = Math.floor(opts.load / 5);
    let t = performance.now();
    let shown = 0;
    await loadFixture(
      service.store,
      [
        { tenant, total: opts.load },
        { tenant: 'bench-neighbour', total: neighbour },
      ],
      now,
      (done) => {
        if (done - shown >= 1_000_000) {
          shown = done;
          console.log(`  … ${fmt(done)} events loaded, ${((performance.now() - t) / 1000).toFixed(0)} s`);
        }
      },
    );
    const loadMs = performance.now() - t;
    results.push([`load ${fmt(opts.load + neighbour)} events (2 tenants, in the database)`, `${(loadMs / 1000).toFixed(1)} s, ${fmt(rate(opts.load + neighbour, loadMs))} ev/s`]);
    // Settle the store as its background processes would before the pages are measured:
    // PostgreSQL's autovacuum analyses the table; PGlite has no background writer, so without a
    // checkpoint each page read would first write out a buffer the load left dirty.
    t = performance.now();
    const settle = engine.name === 'postgres' ? 'VACUUM (ANALYZE) timeline_events' : 'CHECKPOINT';
    await engine.owner(service, [settle]);
    results.push([`${settle}, as ${engine.name === 'postgres' ? 'autovacuum' : 'a writer'} would`, `${((performance.now() - t) / 1000).toFixed(1)} s`]);

    await measurePages(service, address, { tenant, load: opts.load, now, queries: opts.queries, explain: opts.explain, only: opts.only }, results.push);
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
    explain: args.includes('--explain'),
    only: flag(args, 'only', '') || undefined,
  };
  const engines = flag(args, 'engines', 'pglite,postgres').split(',');
  console.log(`timeline bench: ingest ${fmt(opts.ingest)} events per path, ${fmt(opts.load)} loaded for queries, ${opts.queries} queries per scenario`);
  if (engines.includes('pglite')) await benchEngine(pgliteEngine, opts);
  if (engines.includes('postgres')) {
    const engine = await postgresEngine();
    if (engine) await benchEngine(engine, opts);
  }
}
