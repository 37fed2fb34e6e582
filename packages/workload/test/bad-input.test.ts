/**
 * Bad input to the workload services is answered with a typed 4xx naming the field — never a
 * 500, never a half-written record. Services run in-process here; their peers and the
 * Observability & Forensics service are unreachable, which must not turn a refusal into a crash.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@stellaops/telemetry-core';
import { FIXTURES_DIR, SERVICE_NAMES, type WorkloadConfig, type WorkloadServiceName } from '../src/index.js';
import { SERVICE_ROUTES } from '../src/services/registry.js';
import { createRuntime, createWorkloadApp } from '../src/services/service-host.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

async function app(service: WorkloadServiceName): Promise<FastifyInstance> {
  const unreachable = 'http://127.0.0.1:9';
  const config: WorkloadConfig = {
    service,
    tenants: ['acme'],
    peers: Object.fromEntries(SERVICE_NAMES.map((s) => [s, unreachable])) as Record<WorkloadServiceName, string>,
    stellaUrl: unreachable,
    serviceToken: 'not-a-token',
    fixturesDir: FIXTURES_DIR,
    telemetry: { ratio: 1 },
    features: { evidence: false, attestations: false },
  };
  const runtime = createRuntime(config, createLogger({ service, version: '0.1.0', env: 'test', destination: sink }));
  const a = await createWorkloadApp(runtime);
  SERVICE_ROUTES[service](a, runtime);
  await a.ready();
  return a;
}

const tenant = { 'x-stella-tenant': 'acme' };

describe('workload services refuse bad input with typed 4xx errors', () => {
  const apps = new Map<WorkloadServiceName, FastifyInstance>();
  beforeAll(async () => {
    for (const s of SERVICE_NAMES) apps.set(s, await app(s));
  });
  afterAll(async () => {
    for (const a of apps.values()) await a.close();
  });

  const cases: { service: WorkloadServiceName; method: 'GET' | 'POST'; url: string; body?: unknown; headers?: Record<string, string>; status: number; code: string }[] = [
    { service: 'sbom-service', method: 'GET', url: '/sources/payments-api', headers: {}, status: 400, code: 'request.tenant_required' },
    { service: 'sbom-service', method: 'GET', url: '/sources/Not..Valid', status: 400, code: 'request.invalid' },
    { service: 'sbom-service', method: 'GET', url: '/sources/no-such-app', status: 404, code: 'sbom.not_found' },
    { service: 'sbom-service', method: 'POST', url: '/sboms', body: { source_id: 'x', source_digest: 'sha256:00', document: '{}' }, status: 422, code: 'sbom.invalid' },
    { service: 'sbom-service', method: 'GET', url: '/sboms/sbom-unknown/components', status: 404, code: 'sbom.not_found' },
    { service: 'conseiller', method: 'POST', url: '/advisories/ingest', body: { feed: 'nope' }, status: 400, code: 'request.invalid' },
    { service: 'conseiller', method: 'POST', url: '/advisories/ingest', body: { feed: 'partner-osv' }, status: 422, code: 'advisory.malformed' },
    { service: 'conseiller', method: 'GET', url: '/advisories/STELLA-2026-0001', status: 404, code: 'advisory.not_found' },
    { service: 'conseiller', method: 'POST', url: '/advisories/link', body: { sbom_id: 'x' }, status: 400, code: 'request.invalid' },
    { service: 'excitator', method: 'POST', url: '/vex/reconcile', body: { sbom_id: 'x', vex_source: 'no-such-doc', findings: [] }, status: 422, code: 'vex.invalid' },
    { service: 'policy-engine', method: 'POST', url: '/policy/evaluate', body: { sbom_id: 'x' }, status: 400, code: 'request.invalid' },
    { service: 'export-center', method: 'POST', url: '/exports', body: {}, status: 400, code: 'request.invalid' },
    { service: 'export-center', method: 'GET', url: '/exports/export-unknown', status: 404, code: 'export.not_found' },
    { service: 'orchestrator', method: 'POST', url: '/jobs', body: { type: 'rm -rf', params: {} }, status: 400, code: 'job.invalid' },
    { service: 'orchestrator', method: 'GET', url: '/jobs/job-unknown', status: 404, code: 'job.not_found' },
    { service: 'task-runner', method: 'POST', url: '/executions', body: { job_id: 1 }, status: 400, code: 'job.invalid' },
    { service: 'policy-engine', method: 'POST', url: '/policy/evaluate', body: '{"sbom_id": ', status: 400, code: 'request.invalid' },
  ];

  it.each(cases)('$service $method $url → $status $code', async (c) => {
    const res = await apps.get(c.service)!.inject({
      method: c.method,
      url: c.url,
      headers: { ...(c.headers ?? tenant), ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(c.body !== undefined ? { payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) } : {}),
    });
    expect(res.statusCode).toBe(c.status);
    const body = res.json<{ error_code: string; message: string }>();
    expect(body.error_code).toBe(c.code);
    expect(body.message.length).toBeGreaterThan(0);
  });

  it('stores nothing from a feed that holds a malformed advisory', async () => {
    const conseiller = apps.get('conseiller')!;
    await conseiller.inject({ method: 'POST', url: '/advisories/ingest', headers: { ...tenant, 'content-type': 'application/json' }, payload: { feed: 'partner-osv' } });
    const res = await conseiller.inject({ method: 'GET', url: '/advisories/STELLA-2026-9001', headers: tenant });
    expect(res.statusCode).toBe(404);
  });

  it('keeps an advisory exactly as received, and one tenant cannot read another tenant\'s', async () => {
    const conseiller = apps.get('conseiller')!;
    const ok = await conseiller.inject({ method: 'POST', url: '/advisories/ingest', headers: { ...tenant, 'content-type': 'application/json' }, payload: { feed: 'stella-osv' } });
    expect(ok.statusCode).toBe(200);
    const raw = await conseiller.inject({ method: 'GET', url: '/advisories/STELLA-2026-0001', headers: tenant });
    const { readFileSync } = await import('node:fs');
    expect(raw.body).toBe(readFileSync(`${FIXTURES_DIR}/advisories/osv/STELLA-2026-0001.json`, 'utf8'));
    const other = await conseiller.inject({ method: 'GET', url: '/advisories/STELLA-2026-0001', headers: { 'x-stella-tenant': 'globex' } });
    expect(other.statusCode).toBe(404);
  });
});
