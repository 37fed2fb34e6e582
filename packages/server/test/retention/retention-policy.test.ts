/**
 * STO-4, EVI-5, AUTH-4 — one retention policy for the timeline, telemetry segments and
 * evidence, on the embedded engine and on PostgreSQL: a tenant admin's 1-day setting is refused
 * with a 400 naming the floor (and nothing changes), the minimum allowed is accepted and
 * audited, and pruning passes at that minimum delete what is expired while data under legal
 * hold, inside an incident window, `audit.*` events and custody events survive — every refused
 * deletion audited in one summary event per pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { TimelineRuntime } from '../../src/timeline/timeline-feature.js';
import type { EvidenceRuntime } from '../../src/evidence/evidence-feature.js';
import { createTestDatabase, eventually, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const pgUp = await postgresAvailable();
const DAY = 86_400_000;
const TENANT = 'acme';
const SCOPES = ['timeline:read', 'timeline:write', 'timeline:admin', 'evidence:create', 'evidence:read', 'evidence:export', 'evidence:admin', 'telemetry:admin', 'telemetry:write', 'incident:admin', 'obs:read'];

interface Engine {
  name: string;
  available: boolean;
  env(): Promise<{ env: Record<string, string>; db?: TestDatabase }>;
}

const engines: Engine[] = [
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

interface Row {
  event_id: string;
  kind: string;
  resource_id: string | null;
  details: Record<string, unknown>;
}

for (const engine of engines) {
  describe.skipIf(!engine.available)(`retention policy on ${engine.name}`, () => {
    // T0: the day most data is written; T1: an incident two days later.
    const T0 = Date.parse('2026-01-10T10:30:00.000Z');
    const T1 = T0 + 2 * DAY;
    const clock = { now: T0 };
    let svc: ReceiverService;
    let db: TestDatabase | undefined;
    let token: string;
    const ids: Record<string, string> = {};
    const bundles: Record<string, string> = {};
    const traces: Record<string, string> = {};

    const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      svc.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as never } : {}) });
    const timeline = (): Promise<Row[]> =>
      svc.service.store.tenantTransaction(TENANT, async (tx) => (await tx.query<Row>('SELECT event_id::text, kind, resource_id, details FROM timeline_events WHERE tenant_id = $1 ORDER BY ts, event_id', [TENANT])).rows);
    const eventIds = async (): Promise<Set<string>> => new Set((await timeline()).map((e) => e.event_id));
    const summaries = async (target: string): Promise<Row[]> => (await timeline()).filter((e) => e.kind === 'audit.retention.deletion_refused' && e.resource_id === target);
    const ingest = async (events: object[]): Promise<string[]> => {
      const res = await call('POST', '/timeline/events', { events });
      expect(res.statusCode, res.body).toBe(202);
      const out = res.json<{ events: { event_id: string }[] }>().events.map((e) => e.event_id);
      await eventually(async () => ((await eventIds()).has(out[out.length - 1]!) ? true : undefined), 15_000, 'timeline events indexed');
      return out;
    };
    const sendTrace = async (service: string): Promise<string> => {
      const spans = makeSpans(service);
      const writer = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`], { now: clock.now });
      const r = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${svc.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), spans);
      expect(r.code).toBe(ExportResultCode.SUCCESS);
      await svc.telemetry.index.flush();
      return spans[0]!.spanContext().traceId;
    };
    const snapshot = async (caseId: string, job: string): Promise<string> => {
      const a = await call('POST', '/evidence/artifacts', {
        resource_type: 'job',
        resource_id: job,
        role: 'transcript',
        name: 'run.log',
        media_type: 'text/plain',
        content_base64: Buffer.from(`ran ${job}\n`).toString('base64'),
      });
      expect(a.statusCode, a.body).toBe(201);
      const s = await call('POST', '/evidence/snapshot', { kind: 'job-capsule', resource_id: job, case_id: caseId });
      expect(s.statusCode, s.body).toBe(201);
      return s.json<{ bundle_id: string }>().bundle_id;
    };
    const traceStored = async (traceId: string): Promise<number> => (await call('GET', `/obs/trace/${traceId}`)).statusCode;
    const segmentHours = async (): Promise<string[]> => (await svc.telemetry.segments.segments(TENANT, 'traces')).map((s) => s.hour);

    beforeAll(async () => {
      const started = await engine.env();
      db = started.db;
      try {
        svc = await startReceiver(started.env, [], () => clock.now);
      } catch (error) {
        await db?.drop();
        throw error;
      }
      token = await svc.token(TENANT, SCOPES.map((s) => `stella:${s}#tenant/${TENANT}`), { now: T0, ttlSeconds: 3650 * 86_400 });

      // T0: evidence in a case that will be held and in one that will not; events about both.
      bundles['held'] = await snapshot('case-held', 'job-held');
      bundles['free'] = await snapshot('case-free', 'job-free');
      expect((await call('POST', '/evidence/hold/case-held', { action: 'place', reason: 'litigation 2026-3' })).statusCode).toBe(200);
      const t0 = new Date(T0).toISOString();
      const names = ['plain', 'heldSubject', 'heldCase', 'auditRecent', 'custody', 'auditAncient'];
      (await ingest([
        { kind: 'job.finished', ts: t0, resource_type: 'job', resource_id: 'job-free' },
        { kind: 'job.finished', ts: t0, resource_type: 'job', resource_id: 'job-held' },
        { kind: 'case.noted', ts: t0, details: { case_id: 'case-held' } },
        { kind: 'audit.export.downloaded', ts: t0, resource_type: 'export', resource_id: 'x-1' },
        { kind: 'sbom.computed', ts: t0, resource_type: 'sbom', resource_id: 'sbom-1', details: { custody: { step: 'sbom.compute', input_digest: 'sha256:aa', output_digest: 'sha256:bb' } } },
        { kind: 'audit.export.downloaded', ts: new Date(T0 - 500 * DAY).toISOString(), resource_type: 'export', resource_id: 'x-0' },
      ])).forEach((id, i) => (ids[names[i]!] = id));
      traces['plain'] = await sendTrace('svc-plain');

      // T1: an incident; what happened around it is kept by its retention window.
      clock.now = T1;
      expect((await call('POST', '/telemetry/incidents/mode', { state: 'on', ttl: '1h', reason: 'checkout outage' })).statusCode).toBe(200);
      ids['incident'] = (await ingest([{ kind: 'job.failed', ts: new Date(T1).toISOString(), resource_type: 'job', resource_id: 'job-9' }]))[0]!;
      traces['incident'] = await sendTrace('svc-incident');
      bundles['incident'] = await snapshot('case-incident', 'job-incident');
      expect((await call('POST', '/telemetry/incidents/mode', { state: 'off' })).statusCode).toBe(200);

      // T0 + 36 d: recent telemetry (hot under the default tiers).
      clock.now = T0 + 36 * DAY;
      traces['recent'] = await sendTrace('svc-recent');
      clock.now = T0 + 40 * DAY;
    }, 120_000);

    afterAll(async () => {
      await svc?.stop();
      await db?.drop();
    });

    it('refuses a 1-day setting with a 400 naming the floor, and changes nothing', async () => {
      const timelineRes = await call('PUT', '/timeline/retention', { retention_days: 1 });
      expect(timelineRes.statusCode).toBe(400);
      expect(timelineRes.json()).toMatchObject({ error_code: 'retention.out_of_bounds', field: 'body.retention_days', allowed: { min_days: 30, max_days: 3650, bound: 'floor' } });
      expect(timelineRes.json().message).toMatch(/may not be less than 30 days/);

      const evidenceRes = await call('PUT', '/evidence/retention', { retention_days: 1 });
      expect(evidenceRes.statusCode).toBe(400);
      expect(evidenceRes.json()).toMatchObject({ error_code: 'retention.out_of_bounds', field: 'body.retention_days', allowed: { min_days: 90, bound: 'floor' } });

      for (const [tiers, field, min] of [
        [{ hot_days: 1 }, 'body.signals.logs.hot_days', 3],
        [{ warm_days: 1 }, 'body.signals.logs.warm_days', 30],
        [{ cold_days: 10 }, 'body.signals.logs.cold_days', 31],
      ] as const) {
        const res = await call('PUT', '/telemetry/retention', { signals: { logs: tiers } });
        expect(res.statusCode, JSON.stringify(tiers)).toBe(400);
        expect(res.json()).toMatchObject({ error_code: 'retention.out_of_bounds', field, allowed: { min_days: min } });
      }
      const tooLong = await call('PUT', '/telemetry/retention', { signals: { traces: { hot_days: 30 } } });
      expect(tooLong.json()).toMatchObject({ error_code: 'retention.out_of_bounds', allowed: { max_days: 7, bound: 'ceiling' } });

      expect((await call('GET', '/timeline/retention')).json()).toMatchObject({ retention_days: 180, source: 'default' });
      expect((await call('GET', '/evidence/retention')).json()).toMatchObject({ retention_days: 180, source: 'default' });
      expect((await call('GET', '/telemetry/retention')).json()).toMatchObject({ signals: { logs: { hot_days: 7, warm_days: 30, cold_days: 0, source: 'default' } } });
      expect((await timeline()).filter((e) => e.kind.endsWith('retention_changed'))).toEqual([]);
    });

    it('a pass with the refused setting in place deletes nothing of 40-day-old data', async () => {
      const before = await eventIds();
      const [outcome] = (await (svc.service.features.get('timeline') as TimelineRuntime).retention.runOnce()).filter((o) => o.tenant_id === TENANT);
      expect(outcome).toMatchObject({ retention_days: 180 });
      const after = await eventIds();
      for (const id of [ids['plain'], ids['heldSubject'], ids['incident'], ids['auditRecent'], ids['custody']]) expect(after.has(id!)).toBe(true);
      // Only the 500-day-old audit event was past even the audit floor (400 days).
      expect([...before].filter((id) => !after.has(id))).toEqual([ids['auditAncient']]);
    });

    it('accepts the minimum allowed, auditing each change with the change', async () => {
      const t = await call('PUT', '/timeline/retention', { retention_days: 30 });
      expect(t.json()).toMatchObject({ retention_days: 30, source: 'tenant', allowed: { min_days: 30 } });
      const e = await call('PUT', '/evidence/retention', { retention_days: 90 });
      expect(e.json()).toMatchObject({ retention_days: 90, source: 'tenant' });
      const s = await call('PUT', '/telemetry/retention', { signals: { traces: { hot_days: 3, warm_days: 30, cold_days: 0 }, logs: { hot_days: 3 } } });
      expect(s.statusCode, s.body).toBe(200);
      expect(s.json()).toMatchObject({ signals: { traces: { hot_days: 3, warm_days: 30, cold_days: 0, source: 'tenant' }, logs: { hot_days: 3, warm_days: 30, source: 'tenant' }, metrics: { source: 'default' } } });
      const audits = (await timeline()).filter((x) => x.kind.endsWith('retention_changed'));
      expect(audits.map((x) => x.kind).sort()).toEqual(['audit.evidence.retention_changed', 'audit.telemetry.retention_changed', 'audit.timeline.retention_changed']);
      expect(audits.find((x) => x.kind === 'audit.telemetry.retention_changed')!.details).toMatchObject({
        previous: { traces: { hot_days: 7, warm_days: 30, cold_days: 0 } },
        retention: { traces: { hot_days: 3 } },
        granted_by: `stella:telemetry:admin#tenant/${TENANT}`,
      });
    });

    it('timeline: deletes the expired events, keeps held, incident, audit and custody events, and audits the refusal once', async () => {
      const job = (svc.service.features.get('timeline') as TimelineRuntime).retention;
      const [outcome] = (await job.runOnce()).filter((o) => o.tenant_id === TENANT);
      const after = await eventIds();
      expect(after.has(ids['plain']!)).toBe(false);
      for (const id of [ids['heldSubject'], ids['heldCase'], ids['incident'], ids['auditRecent'], ids['custody']]) expect(after.has(id!), id).toBe(true);
      expect(outcome!.deleted).toBeGreaterThanOrEqual(1);
      expect(outcome!.kept).toMatchObject({ legal_hold: expect.any(Number), incident: expect.any(Number), audit_floor: expect.any(Number), custody_floor: expect.any(Number) });
      const [summary, ...more] = await summaries('timeline');
      expect(more).toEqual([]);
      expect(summary!.event_id).toBe(outcome!.audit_event_id);
      expect(summary!.details).toMatchObject({
        target: 'timeline',
        retention_days: 30,
        refused_by_reason: { legal_hold: outcome!.kept.legal_hold, incident: outcome!.kept.incident },
        legal_holds: [{ case_id: 'case-held', reason: 'litigation 2026-3' }],
        incident_windows: [{ hold_id: expect.stringMatching(/^incident-/) }],
        reasons: { legal_hold: expect.any(String), incident: expect.any(String) },
      });
      // A second pass finds nothing newly due: no second event, nothing else deleted.
      const [again] = (await job.runOnce()).filter((o) => o.tenant_id === TENANT);
      expect(again).toMatchObject({ deleted: 0, audit_event_id: null });
      expect(await summaries('timeline')).toHaveLength(1);
    });

    it('telemetry: removes expired hours and trims hot index rows, keeps the incident hour whole, and audits it', async () => {
      expect(await traceStored(traces['recent']!)).toBe(200);
      const run = await svc.segments.retention.runOnce();
      const mine = (xs: { tenant: string; signal: string }[]) => xs.filter((x) => x.tenant === TENANT && x.signal === 'traces');
      expect(mine(run.removed)).toHaveLength(1);
      expect(mine(run.held)).toHaveLength(1);
      expect(mine(run.trimmed).length).toBeGreaterThanOrEqual(1);
      // The T0 hour is gone; the incident hour and the recent one stay as segments.
      const hours = await segmentHours();
      expect(hours).toHaveLength(2);
      expect(await traceStored(traces['plain']!)).toBe(404);
      // The incident trace keeps its index rows too; the recent one is past its hot tier (3 days).
      expect(await traceStored(traces['incident']!)).toBe(200);
      expect(await traceStored(traces['recent']!)).toBe(404);
      const [summary, ...more] = await summaries('telemetry');
      expect(more).toEqual([]);
      expect(summary!.details).toMatchObject({ target: 'telemetry', refused_by_reason: { incident: 1 }, signals: { traces: { held_hours: 1, newly_held_hours: 1, removed_hours: 1 } } });
      const again = await svc.segments.retention.runOnce();
      expect(mine(again.held)).toHaveLength(1);
      expect(again.audit_event_ids).toEqual([]);
    });

    it('evidence: keeps what is held, in an incident window or still object-locked; deletes the rest once all of that has passed; audits each pass in one event', async () => {
      const pruning = (svc.service.features.get('evidence') as EvidenceRuntime).pruning;
      // 100 days: past the tenant's 90, but the free bundle was committed with a 180-day object lock.
      clock.now = T0 + 100 * DAY;
      const [first] = (await pruning.runOnce()).filter((o) => o.tenant_id === TENANT);
      expect(first!.deleted).toEqual([]);
      expect(first!.refused).toEqual(
        expect.arrayContaining([
          { bundle_id: bundles['held'], code: 'evidence.on_hold', reason: 'legal_hold' },
          { bundle_id: bundles['free'], code: 'evidence.retained', reason: 'object_lock' },
          { bundle_id: bundles['incident'], code: 'evidence.retained', reason: 'incident' },
        ]),
      );
      const [summary] = await summaries('evidence');
      expect(summary!.details).toMatchObject({ target: 'evidence', retention_days: 90, refused_by_reason: { legal_hold: 1, object_lock: 1 }, legal_holds: [{ case_id: 'case-held' }] });
      expect((summary!.details['refused_by_reason'] as Record<string, number>)['incident']).toBeGreaterThanOrEqual(1);

      // 181 days: the lock has passed; the held and incident bundles stay.
      clock.now = T0 + 181 * DAY;
      const [second] = (await pruning.runOnce()).filter((o) => o.tenant_id === TENANT);
      expect(second!.deleted).toEqual([bundles['free']]);
      expect(second!.refused.map((r) => r.reason)).not.toContain('object_lock');
      expect((await call('GET', `/evidence/${bundles['held']}`)).json()).toMatchObject({ verification: { ok: true } });
      expect((await call('GET', `/evidence/${bundles['incident']}`)).statusCode).toBe(200);
      expect((await call('GET', `/evidence/${bundles['free']}`)).statusCode).toBe(404);
      const all = await summaries('evidence');
      expect(all).toHaveLength(2);
      expect(all[1]!.details).toMatchObject({ deleted: 1, still_kept_by_reason: { legal_hold: 1 } });
      // Pruning writes no per-bundle refusal events.
      expect((await timeline()).filter((e) => e.kind === 'audit.evidence.deletion_refused')).toEqual([]);
    });

    it('timeline at 181 days: custody events past the evidence retention go, but not those of retained evidence', async () => {
      const job = (svc.service.features.get('timeline') as TimelineRuntime).retention;
      await job.runOnce();
      const events = await timeline();
      const present = new Set(events.map((e) => e.event_id));
      expect(present.has(ids['custody']!)).toBe(false);
      for (const id of [ids['heldSubject'], ids['heldCase'], ids['incident'], ids['auditRecent']]) expect(present.has(id!), id).toBe(true);
      // The creation events of the bundles that still exist are kept (legal hold, incident);
      // the deleted bundle's creation event went with its custody floor, its deletion audit stays.
      const created = events.filter((e) => e.kind === 'evidence.snapshot.created').map((e) => e.resource_id);
      expect(created).toEqual(expect.arrayContaining([bundles['held'], bundles['incident']]));
      expect(created).not.toContain(bundles['free']);
      expect(events.some((e) => e.kind === 'audit.evidence.deleted' && e.resource_id === bundles['free'])).toBe(true);
      // Every audit event of the run is still there, the hold's included.
      expect(events.some((e) => e.kind === 'audit.evidence.hold_placed')).toBe(true);
    });
  });
}
