/**
 * Metric label values are scrubbed in the library (CORE-2) before they become labels, and the
 * cardinality guard (CORE-6) counts series after scrubbing. Secrets are generated here, never
 * written into a fixture.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CardinalityGuard,
  attributesKey,
  createLogger,
  createTelemetry,
  disableDeepDebug,
  enableDeepDebug,
  withContext,
  type TelemetryHandle,
} from '../../src/index.js';

/** A GitHub-token-shaped string, fresh per call. */
function githubToken(): string {
  const body = randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 36).padEnd(36, 'q');
  return `${'gh'}${'p_'}${body}`;
}

function email(): string {
  return `user-${randomBytes(4).toString('hex')}@example.com`;
}

const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

describe('CardinalityGuard label scrubbing', () => {
  it('returns the same attributes object when no value needs scrubbing', () => {
    const guard = new CardinalityGuard();
    const attrs = { 'http.request.method': 'POST', 'http.route': '/policy/evaluate', 'http.response.status_code': 200, ok: true, 'stella.tenant_id': 'acme' };
    expect(guard.scrubLabels(attrs)).toBe(attrs);
    // Memoised: the second call takes the same path and still allocates nothing.
    expect(guard.scrubLabels(attrs)).toBe(attrs);
    expect(guard.scrubLabels({})).toEqual({});
  });

  it('turns secret-looking and e-mail values into the scrubber markers, leaving the rest', () => {
    const guard = new CardinalityGuard();
    const token = githubToken();
    const address = email();
    const attrs = { client: token, contact: address, route: '/sbom/ingest', api_key: 'k1', codes: ['ok', address] };
    const out = guard.scrubLabels(attrs);
    expect(out).not.toBe(attrs);
    expect(out).toEqual({
      client: '[REDACTED:github-token]',
      contact: '[REDACTED:email]',
      route: '/sbom/ingest',
      api_key: '[REDACTED:key]',
      codes: ['ok', '[REDACTED:email]'],
    });
    // The input is left as it was.
    expect(attrs.client).toBe(token);
  });

  it('scrubs URL path labels as routes, not as file paths', () => {
    const guard = new CardinalityGuard();
    const address = email();
    const token = githubToken();
    const routes = { 'http.route': '/work/:id', 'url.path': '/data/export/latest' };
    expect(guard.scrubLabels(routes)).toBe(routes);
    expect(guard.scrubLabels({ 'http.route': `/work/${address}`, 'url.path': `/reset/${token}` })).toEqual({
      'http.route': '/work/[REDACTED:email]',
      'url.path': '/reset/[REDACTED:github-token]',
    });
    // Any other label holding such a path is a file path outside the repository.
    expect(guard.scrubLabels({ file: '/work/alice/notes.txt' })).toEqual({ file: '[REDACTED:path]' });
  });

  it('passes the tenant label as is, like tenant_id in logs', () => {
    const guard = new CardinalityGuard();
    // A long mixed-case tenant id has the shape of a cloud secret key; it is an identifier.
    const tenant = 'AcmeCorporationProductionEnvironment2024';
    const attrs = { 'stella.tenant_id': tenant, tenant };
    expect(guard.scrubLabels(attrs)).toEqual({ 'stella.tenant_id': tenant, tenant: '[REDACTED:aws-secret-key]' });
  });

  it('lets allowlisted keys pass untouched, and follows a replaced policy', () => {
    const guard = new CardinalityGuard({}, { allowKeys: ['contact'] });
    const address = email();
    const attrs = { contact: address, owner: address };
    expect(guard.scrubLabels(attrs)).toEqual({ contact: address, owner: '[REDACTED:email]' });
    guard.setScrubPolicy({ allowKeys: ['owner'] });
    expect(guard.scrubLabels(attrs)).toEqual({ contact: '[REDACTED:email]', owner: address });
    guard.setScrubPolicy({ redactKeys: ['owner'] });
    expect(guard.scrubLabels({ owner: 'team-a' })).toEqual({ owner: '[REDACTED:key]' });
  });

  it('counts series after scrubbing: two different secrets in one label are one series', () => {
    const guard = new CardinalityGuard({ maxSeriesPerTenant: 1 });
    const first = { 'stella.tenant_id': 'acme', client: githubToken() };
    const second = { 'stella.tenant_id': 'acme', client: githubToken() };
    expect(first.client).not.toBe(second.client);
    expect(guard.admit('logins', attributesKey(first), first)).toBe(true);
    // Without scrubbing this would be the tenant's second series, past its cap of one.
    expect(guard.admit('logins', attributesKey(second), second)).toBe(true);
    expect([...guard.overflowCounts()]).toEqual([]);
    // The caller records the object it passed: the value was replaced in it.
    expect(first.client).toBe('[REDACTED:github-token]');
    expect(second.client).toBe('[REDACTED:github-token]');
    // A genuinely different label set is still capped.
    const third = { 'stella.tenant_id': 'acme', client: 'cli' };
    expect(guard.admit('logins', attributesKey(third), third)).toBe(false);
    expect(guard.overflowCounts().get('logins|tenant_limit')).toBe(1);
  });

  it('sends a frozen label set that would need scrubbing to the overflow series', () => {
    const guard = new CardinalityGuard();
    const attrs = Object.freeze({ contact: email() });
    expect(guard.admit('m', attributesKey(attrs), attrs)).toBe(false);
    expect(guard.overflowCounts().get('m|unscrubbable')).toBe(1);
    const clean = Object.freeze({ route: '/x' });
    expect(guard.admit('m', attributesKey(clean), clean)).toBe(true);
  });

  it('is not relaxed by a deep-debug grant: a label outlives the grant', () => {
    const guard = new CardinalityGuard();
    const address = email();
    enableDeepDebug('acme', { ttlMs: 60_000, actor: 'sre', reason: 'label test' });
    try {
      const out = withContext({ tenant_id: 'acme' }, () => guard.scrubLabels({ contact: address }));
      expect(out).toEqual({ contact: '[REDACTED:email]' });
    } finally {
      disableDeepDebug('acme', { actor: 'sre' });
    }
  });
});

describe('scrubbed labels in the exported metrics', () => {
  let handle: TelemetryHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMs: 2000 });
    handle = undefined;
  });

  it('/metrics exposition and OTLP export both carry the marker, and two secrets make one series', async () => {
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = await createTelemetry({
      service: 'label-scrub',
      policyFile: '',
      exporters: { spans: new InMemorySpanExporter(), metrics: metricExporter },
      metrics: { exportIntervalMillis: 60_000, cardinality: { maxSeriesPerTenant: 1 } },
      logger: createLogger({ service: 'label-scrub', destination: quiet() }),
    });
    const tokens = [githubToken(), githubToken()];
    const address = email();
    const logins = handle.metrics.counter('stella.test.logins', 'Logins by client.');
    for (const client of tokens) logins.add(1, { 'stella.tenant_id': 'acme', client });
    handle.metrics.histogram('stella.test.lookup', 'Lookup latency.').record(0.2, { 'stella.tenant_id': 'beta', contact: address });
    handle.observeRequest({
      route: `/users/${address}`,
      method: 'GET',
      statusCode: 200,
      durationMs: 12,
      tenantId: 'gamma',
      traceId: '0'.repeat(31) + '1',
      spanId: '0'.repeat(15) + '1',
      sampled: false,
    });

    const { status, body } = await handle.renderMetrics();
    expect(status).toBe(200);
    for (const secret of [...tokens, address]) expect(body).not.toContain(secret);
    const loginLines = body.split('\n').filter((l) => l.startsWith('stella_test_logins_total{'));
    expect(loginLines).toHaveLength(1);
    expect(loginLines[0]).toContain('client="[REDACTED:github-token]"');
    expect(loginLines[0]).toMatch(/ 2$/);
    expect(body).not.toContain('otel_metric_overflow');
    expect(body).toMatch(/stella_test_lookup_seconds_count\{[^}]*contact="\[REDACTED:email\]"[^}]*\} 1/);
    expect(body).toMatch(/http_server_request_duration_seconds_count\{[^}]*http_route="\/users\/\[REDACTED:email\]"[^}]*\} 1/);

    await handle.forceFlush();
    const exported = metricExporter.getMetrics();
    expect(exported.length).toBeGreaterThan(0);
    const latest = exported[exported.length - 1]!;
    const all = latest.scopeMetrics.flatMap((s) => s.metrics);
    const otlpLogins = all.find((m) => m.descriptor.name === 'stella.test.logins')!;
    expect(otlpLogins.dataPoints).toHaveLength(1);
    expect(otlpLogins.dataPoints[0]!.attributes).toEqual({ 'stella.tenant_id': 'acme', client: '[REDACTED:github-token]' });
    expect(otlpLogins.dataPoints[0]!.value).toBe(2);
    const otlpLookup = all.find((m) => m.descriptor.name === 'stella.test.lookup')!;
    expect(otlpLookup.dataPoints.map((p) => p.attributes)).toEqual([{ 'stella.tenant_id': 'beta', contact: '[REDACTED:email]' }]);
    const serialized = JSON.stringify(all.map((m) => m.dataPoints.map((p) => p.attributes)));
    for (const secret of [...tokens, address]) expect(serialized).not.toContain(secret);
  });
});
