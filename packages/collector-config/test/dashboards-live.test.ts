/**
 * Every panel of the shipped dashboards returns data from the real system: the demo's
 * processes (the Observability & Forensics service and the seven workload services, as
 * `npm run demo` starts them), driven through two rounds of the demo journey plus the requests
 * the service-side panels count (captures, attestation reads and refusals, denials, token
 * failures, incident mode), scraped by a real Prometheus every second. Each panel query runs
 * through `/api/v1/query` with Grafana's variables substituted and must return a finite value;
 * latency panels must carry exemplars whose trace opens in the service's trace view.
 *
 * Panels on the service's own metrics are checked apart, so a service that does not serve
 * `/metrics` is named as the reason.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS, runTenantJourney, SERVICE_NAMES, startStack, type Stack, type TenantRun } from '@stellaops/workload';
import { DASHBOARDS, dashboardFiles, SERVICE_JOB, type MetricSource, type PanelSpec } from '../src/index.ts';
import { requirePrometheus, startPrometheus, substituteGrafanaVariables, until, type RunningPrometheus } from './dashboards-prometheus.ts';

/** Panels whose series appear only with an event this test cannot cause from outside, and why. */
const NOT_EXERCISED: Readonly<Record<string, string>> = {
  'stella-telemetry/Records quarantined':
    'stella_ingest_quarantined_total counts records the telemetry index could not store (an undecodable segment record, a row the store refuses); no request from outside produces one',
};

interface LivePanel {
  dashboard: string;
  title: string;
  source: MetricSource;
  targets: { refId: string; expr: string; exemplar: boolean }[];
}

const panels: LivePanel[] = [];
for (const [file, text] of dashboardFiles()) {
  const d = JSON.parse(text) as { uid: string; panels: { type: string; title: string; targets?: LivePanel['targets'] }[] };
  const specs: PanelSpec[] = DASHBOARDS.find((s) => `${s.uid}.json` === file)!.rows.flatMap((r) => r.panels);
  for (const p of d.panels.filter((x) => x.type !== 'row')) {
    panels.push({ dashboard: d.uid, title: p.title, source: specs.find((s) => s.title === p.title)!.source, targets: p.targets! });
  }
}
const key = (p: LivePanel): string => `${p.dashboard}/${p.title}`;

const SCOPES = ['timeline:read', 'obs:read', 'evidence:read', 'evidence:create', 'evidence:export', 'attest:read', 'attest:create', 'incident:admin'];

describe.skipIf(!requirePrometheus())('dashboards against the running services and a real Prometheus', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-dashboards-live-'));
  let stack: Stack | undefined;
  let prom: RunningPrometheus | undefined;
  let promStartedMs = 0;
  const tokens = new Map<string, string>();
  const runs: TenantRun[] = [];

  /** Resolves once Prometheus scraped every target that is up after now. */
  async function nextScrape(): Promise<void> {
    const mark = Date.now();
    await until(
      'a scrape of every target after the traffic',
      async () => {
        const targets = await prom!.targets();
        return targets.length > 0 && targets.every((t) => t.health !== 'up' || Date.parse(t.lastScrape) > mark) ? true : undefined;
      },
      30_000,
    );
  }

  async function service(path: string, init: { tenant: string; token?: string | null; method?: string; body?: unknown }): Promise<number> {
    // Sampled, as the CLI and the Console start their traces: the service's histograms keep these as exemplars.
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const headers: Record<string, string> = { 'x-stella-tenant': init.tenant, traceparent };
    const token = init.token === undefined ? tokens.get(init.tenant) : init.token;
    if (token !== null && token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${stack!.stellaUrl}${path}`, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
    await res.arrayBuffer();
    return res.status;
  }

  /** What the service-side panels count: captures, attestations, denials, token failures, OTLP refusals, export reads. */
  async function serviceTraffic(): Promise<void> {
    const [a, b] = DEMO_TENANTS as [(typeof DEMO_TENANTS)[number], (typeof DEMO_TENANTS)[number]];
    expect(await service('/telemetry/exports/forensic/1h', { tenant: a.tenant })).toBe(200);
    for (const run of runs) {
      const { tenant } = run.plan;
      const attestation = run.evaluation.record.attestation_id;
      if (attestation) {
        expect(await service(`/attestations/${attestation}`, { tenant })).toBe(200);
        expect(await service('/attestations/verify', { tenant, body: { attestation_id: attestation } })).toBe(200);
      }
      expect(await service(`/attestations?resource_type=job&resource_id=${run.evaluation.job.job_id}`, { tenant })).toBe(200);
      const exportId = run.evaluation.result?.export_id;
      if (exportId) {
        const res = await fetch(`${stack!.peers['export-center']}/exports/${exportId}`, { headers: { 'x-stella-tenant': tenant } });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
      }
    }
    // A statement that is not an in-toto Statement: refused (400 attestation.invalid).
    expect(await service('/attestations', { tenant: a.tenant, body: { subject_id: 'dashboard-check', statement: { _type: 'not-in-toto' } } })).toBe(400);
    // Another tenant's timeline (403 auth.tenant_denied), no token and a forged one (401).
    expect(await service('/timeline?limit=1', { tenant: a.tenant, token: tokens.get(b.tenant)! })).toBe(403);
    expect(await service('/timeline?limit=1', { tenant: a.tenant, token: null })).toBe(401);
    expect(await service('/timeline?limit=1', { tenant: a.tenant, token: 'not-a-token' })).toBe(401);
    // An OTLP export without a token: refused by the receiver.
    const otlp = await fetch(`${stack!.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
    await otlp.arrayBuffer();
    expect(otlp.status).toBe(401);
  }

  beforeAll(async () => {
    stack = await startStack({ dataDir, tenants: DEMO_TENANTS.map((t) => t.tenant) });
    const targets = [
      ...SERVICE_NAMES.map((job) => ({ job, address: new URL(stack!.peers[job]).host })),
      { job: SERVICE_JOB, address: new URL(stack.stellaUrl).host },
    ];
    prom = await startPrometheus(targets, { scrapeIntervalSeconds: 1 });
    promStartedMs = Date.now();
    // Counters must be scraped before the traffic, or rate() cannot see their first increments.
    await until(
      'Prometheus to scrape every workload service',
      async () => {
        const t = await prom!.targets();
        return SERVICE_NAMES.every((job) => t.some((x) => x.job === job && x.health === 'up')) ? true : undefined;
      },
      60_000,
    );
    for (const plan of DEMO_TENANTS) tokens.set(plan.tenant, await stack.token(plan.tenant, SCOPES));

    // Round 1: the journey for both tenants (one injected failure), incident mode on for the
    // second tenant, the service-side requests.
    runs.push(...(await Promise.all(DEMO_TENANTS.map((plan) => runTenantJourney(stack!, plan)))));
    const incidentTenant = DEMO_TENANTS[1]!.tenant;
    expect(await service('/telemetry/incidents/mode', { tenant: incidentTenant, body: { state: 'on', ttl: '1h', reason: 'dashboard check' } })).toBe(200);
    await serviceTraffic();
    await nextScrape();
    // Round 2: every histogram and counter moves again after a scrape, so rates and quantiles have two points.
    runs.push(...(await Promise.all(DEMO_TENANTS.map((plan) => runTenantJourney(stack!, plan)))));
    await serviceTraffic();
    await until(
      `the workload processes to follow incident mode for ${incidentTenant}`,
      async () => ((await prom!.query(`telemetry_incident_mode{job!="${SERVICE_JOB}",tenant="${incidentTenant}"}`)).length > 0 ? true : undefined),
      30_000,
    );
    await stack.flush();
    await nextScrape();
  }, 600_000);

  afterAll(async () => {
    await prom?.stop();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const windows = (): { rateInterval: string; interval: string; range: string } => {
    // Rates over everything Prometheus saw: the whole run.
    const whole = `${Math.ceil((Date.now() - promStartedMs) / 1000) + 30}s`;
    return { rateInterval: whole, interval: '15s', range: whole };
  };

  /** Panels (by key) with a query that returns no series or only NaN, each with why. */
  async function withoutData(selected: LivePanel[]): Promise<string[]> {
    const missing: string[] = [];
    for (const p of selected) {
      for (const t of p.targets) {
        const samples = await prom!.query(substituteGrafanaVariables(t.expr, windows()));
        const finite = samples.filter((s) => Number.isFinite(Number(s.value[1])));
        if (finite.length === 0) missing.push(`${key(p)} ${t.refId} (${samples.length === 0 ? 'no series' : `${samples.length} series, all NaN`})`);
      }
    }
    return missing;
  }

  async function serviceScrape(): Promise<string> {
    const t = (await prom!.targets()).find((x) => x.job === SERVICE_JOB);
    return t ? `the service's /metrics target is ${t.health}${t.lastError ? ` (${t.lastError})` : ''}` : 'the service is not a scrape target';
  }

  it('Prometheus scrapes every workload service', async () => {
    const t = await prom!.targets();
    for (const job of SERVICE_NAMES) expect(t.find((x) => x.job === job)?.health, job).toBe('up');
  });

  it("Prometheus scrapes the Observability & Forensics service's own /metrics", async () => {
    const t = (await prom!.targets()).find((x) => x.job === SERVICE_JOB);
    expect(t?.health, await serviceScrape()).toBe('up');
  });

  for (const d of DASHBOARDS) {
    const own = panels.filter((p) => p.dashboard === d.uid && !NOT_EXERCISED[key(p)]);
    const core = own.filter((p) => p.source !== 'service');
    const svc = own.filter((p) => p.source === 'service');
    if (core.length > 0) {
      it(`${d.uid}: every panel on the workload's and Prometheus's metrics returns data (${core.length})`, async () => {
        expect(await withoutData(core)).toEqual([]);
      });
    }
    if (svc.length > 0) {
      it(`${d.uid}: every panel on the service's own metrics returns data (${svc.length})`, async () => {
        const missing = await withoutData(svc);
        expect(missing, missing.length ? `no data — ${await serviceScrape()}` : '').toEqual([]);
      });
    }
  }

  it('leaves out of the live check only panels that exist, each with its reason (their queries are checked statically)', () => {
    for (const [panel, why] of Object.entries(NOT_EXERCISED)) {
      expect(panels.map(key), panel).toContain(panel);
      expect(why.length, panel).toBeGreaterThan(20);
    }
  });

  it('exemplars of latency panels carry trace ids, and the workload traces open in the trace view', async () => {
    const start = promStartedMs / 1000;
    const problems: string[] = [];
    const toOpen: { panel: string; traceId: string; tenant: string }[] = [];
    for (const p of panels.filter((x) => x.source !== 'service')) {
      for (const t of p.targets.filter((x) => x.exemplar)) {
        const series = await prom!.exemplars(substituteGrafanaVariables(t.expr, windows()), start, Date.now() / 1000);
        const found = series.flatMap((s) => s.exemplars.map((e) => ({ traceId: e.labels['trace_id'], tenant: s.seriesLabels['stella_tenant_id'] })));
        const usable = found.filter((e): e is { traceId: string; tenant: string } => /^[0-9a-f]{32}$/.test(e.traceId ?? '') && !!e.tenant);
        if (usable.length === 0) problems.push(`${key(p)} ${t.refId}: no exemplar with a trace_id`);
        else toOpen.push({ panel: `${key(p)} ${t.refId}`, ...usable[usable.length - 1]! });
      }
    }
    expect(problems).toEqual([]);
    // The data link opens /obs/trace/<trace_id>: each exemplar's trace is stored and readable by its tenant.
    for (const e of toOpen) {
      await until(
        `${e.panel}: trace ${e.traceId} in GET /obs/trace/:id`,
        async () => ((await service(`/obs/trace/${e.traceId}`, { tenant: e.tenant })) === 200 ? true : undefined),
        30_000,
      );
    }
  });

  it("exemplars of the service's latency panels carry trace ids", async () => {
    const start = promStartedMs / 1000;
    const problems: string[] = [];
    for (const p of panels.filter((x) => x.source === 'service')) {
      for (const t of p.targets.filter((x) => x.exemplar)) {
        const series = await prom!.exemplars(substituteGrafanaVariables(t.expr, windows()), start, Date.now() / 1000);
        if (!series.some((s) => s.exemplars.some((e) => /^[0-9a-f]{32}$/.test(e.labels['trace_id'] ?? '')))) problems.push(`${key(p)} ${t.refId}`);
      }
    }
    expect(problems, problems.length ? `no exemplar with a trace_id — ${await serviceScrape()}` : '').toEqual([]);
  });
});
