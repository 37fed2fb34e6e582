/**
 * DORA-1..5 through the service: deployments recorded idempotently (the same id with other
 * content is a 409 `dora.deployment_conflict`), incidents upserted, bad input answered with a
 * 400 naming the field, metrics and the report over records sent over HTTP matching the pure
 * computation, the report byte-identical for the same records whatever their order, the
 * Release Orchestrator's bus messages recorded (bad ones quarantined, the consumer carrying on),
 * and the `dora_*` metrics on `/metrics`. On embedded defaults (PGlite, the outbox bus) and on
 * PostgreSQL with NATS JetStream (a stream and prefix of this run's own).
 */
import { randomBytes } from 'node:crypto';
import { releaseDeploymentSubject, releaseIncidentSubject } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsJetStreamBus } from '../../src/index.js';
import { computeDoraMetrics, toDeployment, toIncident } from '../../src/dora/dora-metrics.js';
import type { DeploymentRecord, IncidentRecord } from '../../src/dora/dora-records.js';
import type { DoraRuntime } from '../../src/dora/dora-feature.js';
import { createTestDatabase, eventually, NATS_URL, natsAvailable, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

const natsUp = await natsAvailable();
const pgUp = natsUp ? await postgresAvailable() : false;

const H = 3_600_000;
const D = 86_400_000;
const FROM = Date.UTC(2026, 2, 1);
const TO = Date.UTC(2026, 2, 15);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A small seeded dataset: 2 pipelines, all outcomes and severities, spread over 14 days. */
function records(seed: number): { deployments: DeploymentRecord[]; incidents: IncidentRecord[] } {
  let a = seed >>> 0;
  const r = (): number => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const outcomes = ['success', 'success', 'success', 'rollback', 'hotfix', 'failed'] as const;
  const deployments = Array.from({ length: 60 }, (_, i): DeploymentRecord => {
    const deploy = FROM + Math.floor(r() * (TO - FROM));
    return {
      deployment_id: `dep-${i}`,
      service: i % 2 ? 'checkout' : 'ledger',
      environment: i % 5 === 0 ? 'staging' : 'production',
      pipeline: ['Main Line', 'main_line', 'hotfix'][i % 3]!,
      commit_time: iso(deploy - Math.floor(r() * 72 * H)),
      deploy_time: iso(deploy),
      outcome: outcomes[Math.floor(r() * outcomes.length)]!,
    };
  });
  const incidents = Array.from({ length: 24 }, (_, i): IncidentRecord => {
    const start = FROM + Math.floor(r() * (TO - FROM));
    return {
      incident_id: `inc-${i}`,
      environment: i % 4 === 0 ? 'staging' : 'production',
      service: i % 3 === 0 ? null : 'checkout',
      severity: (['sev1', 'sev2', 'sev3', 'sev4'] as const)[i % 4]!,
      started_at: iso(start),
      acknowledged_at: i % 5 === 0 ? null : iso(start + Math.floor(r() * 2 * H)),
      resolved_at: i % 3 === 0 ? null : iso(start + Math.floor(r() * 30 * H)),
    };
  });
  return { deployments, incidents };
}

const engines = [
  { name: 'embedded PGlite and the outbox bus', available: true, nats: false },
  { name: 'PostgreSQL and NATS JetStream', available: natsUp && pgUp, nats: true },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`DORA, ${engine.name}`, () => {
    const run = randomBytes(4).toString('hex');
    const stream = `STELLA_DORA_${run}`;
    const prefix = `stelladora${run}`;
    let t: TestService;
    let db: TestDatabase | undefined;
    const tokens = new Map<string, string>();

    beforeAll(async () => {
      let env: Record<string, string> = {};
      if (engine.nats) {
        db = await createTestDatabase();
        env = { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole, STELLA_NATS_URL: NATS_URL, STELLA_NATS_STREAM: stream, STELLA_SUBJECT_PREFIX: prefix };
      }
      t = await startTestService(env);
      for (const tenant of ['acme', 'beta', 'gamma', 'bus']) {
        tokens.set(tenant, await t.token(tenant, [`stella:dora:write#tenant/${tenant}`, `stella:dora:read#tenant/${tenant}`, `stella:telemetry:admin#tenant/${tenant}`]));
      }
    }, 180_000);
    afterAll(async () => {
      await t?.stop();
      if (engine.nats) {
        const bus = await NatsJetStreamBus.connect({ servers: NATS_URL, stream, subjectPrefix: prefix }).catch(() => undefined);
        await bus?.deleteStream().catch(() => undefined);
        await bus?.close();
      }
      await db?.drop();
    });

    const call = (tenant: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, token = tokens.get(tenant)!) =>
      t.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': tenant }, ...(payload !== undefined ? { payload: payload as never } : {}) });
    const deployment = (tenant: string, d: DeploymentRecord) => call(tenant, 'POST', '/dora/deployments', d);
    const incident = (tenant: string, i: IncidentRecord) => {
      const { incident_id, ...body } = i;
      return call(tenant, 'PUT', `/dora/incidents/${incident_id}`, body);
    };

    it('records a deployment once: the same record again is a 200, other content under its id a 409', async () => {
      const d: DeploymentRecord = { deployment_id: 'rel-1', service: 'checkout', environment: 'production', pipeline: 'main', commit_time: '2026-03-01T10:00:00+01:00', deploy_time: '2026-03-01T12:00:00Z', outcome: 'success' };
      const first = await deployment('gamma', d);
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json()).toEqual({ created: true, deployment: { ...d, commit_time: '2026-03-01T09:00:00.000Z', deploy_time: '2026-03-01T12:00:00.000Z' } });
      const again = await deployment('gamma', { ...d, commit_time: '2026-03-01T09:00:00Z' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ created: false });
      const conflict = await deployment('gamma', { ...d, outcome: 'rollback' });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toMatchObject({ error_code: 'dora.deployment_conflict', field: 'body.deployment_id', message: expect.stringContaining('rel-1') });
    });

    it('answers bad input with a 400 naming the field', async () => {
      const d = { deployment_id: 'rel-bad', service: 'checkout', environment: 'production', pipeline: 'main', commit_time: '2026-03-01T10:00:00Z', deploy_time: '2026-03-01T12:00:00Z', outcome: 'success' };
      const cases: [string, unknown, string, string][] = [
        ['POST', { ...d, deploy_time: '2026-03-01T09:00:00Z' }, 'dora.record_invalid', 'body.deploy_time'],
        ['POST', { ...d, outcome: 'cancelled' }, 'request.invalid', 'body.outcome'],
        ['POST', { ...d, commit_time: 'yesterday' }, 'request.invalid', 'body.commit_time'],
        ['POST', { ...d, deployment_id: undefined }, 'request.invalid', 'body.deployment_id'],
      ];
      for (const [, body, code, field] of cases) {
        const res = await deployment('gamma', body as DeploymentRecord);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json(), JSON.stringify(body)).toMatchObject({ error_code: code, field });
      }
      const i = { environment: 'production', severity: 'sev2', started_at: '2026-03-02T10:00:00Z' };
      for (const [body, code, field] of [
        [{ ...i, resolved_at: '2026-03-02T09:00:00Z' }, 'dora.record_invalid', 'body.resolved_at'],
        [{ ...i, acknowledged_at: '2026-03-02T09:59:59Z' }, 'dora.record_invalid', 'body.acknowledged_at'],
        [{ ...i, severity: 'sev9' }, 'request.invalid', 'body.severity'],
      ] as const) {
        const res = await call('gamma', 'PUT', '/dora/incidents/inc-bad', body);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ error_code: code, field });
      }
      const window = await call('gamma', 'GET', '/dora/metrics?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z');
      expect(window.statusCode).toBe(400);
      expect(window.json()).toMatchObject({ error_code: 'dora.window_invalid', field: 'query.from' });
      const noTo = await call('gamma', 'GET', '/dora/report?from=2026-03-01T00:00:00Z');
      expect(noTo.statusCode).toBe(400);
    });

    it('creates an incident, then updates it as it is acknowledged and resolved', async () => {
      const base: IncidentRecord = { incident_id: 'inc-life', environment: 'production', service: 'checkout', severity: 'sev1', started_at: '2026-03-03T10:00:00.000Z', acknowledged_at: null, resolved_at: null };
      expect((await incident('gamma', base)).statusCode).toBe(201);
      const acked = await incident('gamma', { ...base, acknowledged_at: '2026-03-03T10:15:00.000Z' });
      expect(acked.statusCode).toBe(200);
      const resolved = await incident('gamma', { ...base, acknowledged_at: '2026-03-03T10:15:00.000Z', resolved_at: '2026-03-03T12:00:00.000Z' });
      expect(resolved.json()).toEqual({ created: false, incident: { ...base, acknowledged_at: '2026-03-03T10:15:00.000Z', resolved_at: '2026-03-03T12:00:00.000Z' } });
      const m = await call('gamma', 'GET', '/dora/metrics?environment=production&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z');
      expect(m.json()).toMatchObject({ incidents_total: 1, time_to_acknowledge_hours: 0.25, time_to_recovery_hours: 2, classification: { time_to_recovery: 'high' } });
    });

    it('computes metrics, levels and SLO breaches over the records it holds, as the pure computation does', async () => {
      const data = records(7);
      for (const d of data.deployments) expect((await deployment('acme', d)).statusCode).toBe(201);
      for (const i of data.incidents) expect((await incident('acme', i)).statusCode).toBe(201);
      for (const environment of [undefined, 'production']) {
        const q = `from=${iso(FROM)}&to=${iso(TO)}${environment ? `&environment=${environment}` : ''}`;
        const res = await call('acme', 'GET', `/dora/metrics?${q}`);
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json();
        const ds = data.deployments.filter((d) => !environment || d.environment === environment).map(toDeployment);
        const is = data.incidents.filter((i) => !environment || i.environment === environment).map(toIncident);
        const expected = computeDoraMetrics(ds, is, { fromMs: FROM, toMs: TO });
        expect(body).toMatchObject({ tenant: 'acme', environment: environment ?? null, from: iso(FROM), to: iso(TO), ...expected });
        expect(body.classification.overall).toMatch(/^(elite|high|medium|low)$/);
        expect(body.slo.targets).toEqual({ lead_time_hours: 24, deployment_frequency_per_day: 1, change_failure_rate_percent: 15, time_to_recovery_hours: 1 });
        expect(body.slo.deployments_over_lead_time_target).toBe(ds.filter((d) => d.deployMs - d.commitMs > 24 * H).length);
      }
      // An empty window: nulls, not NaN.
      const empty = await call('acme', 'GET', '/dora/metrics?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z');
      expect(empty.json()).toMatchObject({ deployments_total: 0, lead_time_hours: null, change_failure_rate_percent: null, time_to_recovery_hours: null, classification: { overall: 'low', lead_time: null } });
    });

    it('reports the same bytes for the same records, whatever order they were recorded in', async () => {
      const data = records(7);
      // beta gets acme's records in reverse order, and incidents before deployments.
      for (const i of [...data.incidents].reverse()) expect((await incident('beta', i)).statusCode).toBe(201);
      for (const d of [...data.deployments].reverse()) expect((await deployment('beta', d)).statusCode).toBe(201);
      const url = `/dora/report?from=${iso(FROM)}&to=${iso(TO)}&environment=production`;
      const a = await call('acme', 'GET', url);
      const b = await call('beta', 'GET', url);
      const again = await call('acme', 'GET', url);
      expect(a.statusCode, a.body).toBe(200);
      expect(again.body).toBe(a.body);
      expect(b.body.replace('"tenant":"beta"', '"tenant":"acme"')).toBe(a.body);
      const report = a.json();
      expect(report.cohorts).toHaveLength(14);
      expect(report.pipelines.map((p: { pipeline: string }) => p.pipeline)).toEqual(['hotfix', 'main-line']);
      expect(report.severities.map((s: { severity: string }) => s.severity)).toEqual(['sev1', 'sev2', 'sev3', 'sev4']);
    });

    it('records the Release Orchestrator’s bus messages, quarantines the bad ones and carries on', async () => {
      const p = t.service.config.subjectPrefix;
      const publish = (subject: string, body: unknown, id: string) => t.service.bus.publish(subject, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { msgId: `${run}-${id}` });
      const d: DeploymentRecord = { deployment_id: 'bus-1', service: 'checkout', environment: 'production', pipeline: 'release train', commit_time: '2026-03-05T08:00:00Z', deploy_time: '2026-03-05T10:00:00Z', outcome: 'rollback' };
      await publish(releaseDeploymentSubject('bus', p), d, 'd1');
      await publish(releaseDeploymentSubject('bus', p), 'not json', 'd2');
      await publish(releaseDeploymentSubject('bus', p), { ...d, deployment_id: 'bus-2', deploy_time: '2026-03-05T07:00:00Z' }, 'd3');
      await publish(releaseDeploymentSubject('bus', p), { ...d, outcome: 'success' }, 'd4');
      await publish(releaseDeploymentSubject('bus', p), { ...d, deployment_id: 'bus-3' }, 'd5');
      const inc = { incident_id: 'bus-inc', environment: 'production', severity: 'sev2', started_at: '2026-03-05T10:05:00Z' };
      await publish(releaseIncidentSubject('bus', p), inc, 'i1');
      await publish(releaseIncidentSubject('bus', p), { ...inc, acknowledged_at: '2026-03-05T10:10:00Z', resolved_at: '2026-03-05T11:05:00Z' }, 'i2');
      await publish(releaseIncidentSubject('bus', p), { ...inc, incident_id: 'bus-inc-2', resolved_at: '2026-03-05T09:00:00Z' }, 'i3');

      const url = '/dora/metrics?from=2026-03-05T00:00:00Z&to=2026-03-06T00:00:00Z';
      const m = await eventually(async () => {
        const body = (await call('bus', 'GET', url)).json();
        return body.deployments_total === 2 && body.incidents_resolved === 1 ? body : undefined;
      }, 20_000, 'the bus records');
      expect(m).toMatchObject({ deployments_total: 2, deployment_failures_total: 2, change_failure_rate_percent: 100, time_to_recovery_hours: 1, time_to_acknowledge_hours: 5 / 60 });
      const quarantined = await eventually(async () => {
        const q = (await call('bus', 'GET', '/telemetry/quarantine?signal=release')).json();
        return q.entries?.length === 4 ? q.entries : undefined;
      }, 20_000, 'four quarantined messages');
      expect(quarantined.map((e: { reason: string }) => e.reason).sort()).toEqual(['dora.deployment_conflict', 'dora.record_invalid', 'dora.record_invalid', 'dora.record_invalid']);
      expect(quarantined.every((e: { source: string }) => e.source.startsWith(`bus:${p}.bus.release.`))).toBe(true);
      const runtime = t.service.features.get('dora') as DoraRuntime;
      expect(runtime.consumer.stats).toMatchObject({ recorded: 4, rejected: 4 });
      // A redelivered batch records nothing twice.
      await publish(releaseDeploymentSubject('bus', p), d, 'd1-again');
      await eventually(async () => (runtime.consumer.stats.recorded >= 5 ? true : undefined), 20_000, 'the repeat');
      expect((await call('bus', 'GET', url)).json().deployments_total).toBe(2);
    });

    it('serves the dora_* metrics on /metrics, with the SLO breaches by metric', async () => {
      const runtime = t.service.features.get('dora') as DoraRuntime;
      await runtime.gauges.runOnce();
      const text = (await t.service.app.inject({ url: '/metrics' })).body;
      for (const name of ['dora_deployments_total', 'dora_deployment_failure_total', 'dora_lead_time_hours_bucket', 'dora_time_to_recovery_hours_bucket', 'dora_slo_breach_total']) {
        expect(text, name).toContain(name);
      }
      expect(text).toMatch(/dora_deployments_total\{[^}]*environment="production"[^}]*outcome="rollback"[^}]*tenant="bus"[^}]*\} 2/);
      expect(text).toMatch(/dora_slo_breach_total\{[^}]*metric="lead_time"[^}]*tenant="acme"/);
      expect(text).toMatch(/dora_slo_breach_total\{[^}]*metric="time_to_recovery"[^}]*tenant="gamma"[^}]*\} 1/);
      // The gauges are over the trailing window from now: records of March 2026 may be past it, so only their presence for a fresh record is asserted.
      const now = Date.now();
      expect((await deployment('gamma', { deployment_id: 'now-1', service: 's', environment: 'live', pipeline: '', commit_time: iso(now - 2 * H), deploy_time: iso(now - H), outcome: 'hotfix' })).statusCode).toBe(201);
      const after = (await t.service.app.inject({ url: '/metrics' })).body;
      expect(after).toMatch(/dora_deployment_frequency_per_day\{environment="live",tenant="gamma"\} 0\.0333/);
      expect(after).toMatch(/dora_change_failure_rate_percent\{environment="live",tenant="gamma"\} 100/);
    });

    it('needs the DORA scopes of the tenant', async () => {
      const reader = await t.token('acme', ['stella:dora:read#tenant/acme']);
      const write = await call('acme', 'POST', '/dora/deployments', records(1).deployments[0], reader);
      expect(write.statusCode).toBe(403);
      expect(write.json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:dora:write#tenant/acme' });
      const other = await call('beta', 'GET', `/dora/report?from=${iso(FROM)}&to=${iso(FROM + D)}`, undefined, reader);
      expect(other.statusCode).toBe(403);
      expect(other.json()).toMatchObject({ error_code: 'auth.tenant_denied' });
    });
  });
}
