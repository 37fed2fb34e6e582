import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  createLogger,
  HttpIncidentModeSource,
  InMemoryIncidentModeSource,
  initTelemetry,
  parseIncidentModeDocument,
  withContext,
  withSpan,
  type TelemetryHandle,
} from '../../src/index.js';

let handle: TelemetryHandle | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  for (const s of servers.splice(0)) s.close();
});

function spansFor(exporter: InMemorySpanExporter, tenant: string): number {
  return exporter.getFinishedSpans().filter((s) => s.attributes['stella.tenant_id'] === tenant).length;
}

describe('incident override', () => {
  it('samples 100% for the tenant in incident mode only, turns on breadcrumbs, and reverts after the TTL', async () => {
    let now = Date.parse('2025-03-01T10:00:00Z');
    const source = new InMemoryIncidentModeSource();
    const exporter = new InMemorySpanExporter();
    const lines: string[] = [];
    const logger = createLogger({
      service: 'incident-svc',
      level: 'info',
      destination: new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }),
    });
    handle = await initTelemetry({
      service: 'incident-svc',
      exporters: { spans: exporter },
      sampling: { ratio: 0, tail: false, incidentSource: source },
      now: () => now,
      logger,
      metrics: { requestMetrics: false },
    });
    const traffic = (): void => {
      for (const tenant of ['acme', 'globex']) {
        withContext({ tenant_id: tenant }, () => {
          for (let i = 0; i < 50; i++) withSpan('test.work', {}, () => logger.debug(`breadcrumb ${tenant}`));
        });
      }
    };

    traffic();
    await handle.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(lines.filter((l) => l.includes('breadcrumb'))).toHaveLength(0);

    source.set({ tenant: 'acme', service: null, state: 'on', expires_at: new Date(now + 60 * 60_000).toISOString() });
    traffic();
    await handle.forceFlush();
    expect(spansFor(exporter, 'acme')).toBe(50);
    expect(spansFor(exporter, 'globex')).toBe(0);
    expect(exporter.getFinishedSpans().every((s) => s.attributes['stella.sampling.reason'] === 'incident')).toBe(true);
    const crumbs = lines.filter((l) => l.includes('breadcrumb'));
    expect(crumbs).toHaveLength(50);
    expect(crumbs.every((l) => JSON.parse(l).tenant_id === 'acme' && JSON.parse(l).level === 'debug')).toBe(true);
    const gauge = (await handle.renderMetrics()).body;
    expect(gauge).toMatch(/telemetry_incident_mode\{service="\*",state="on",tenant="acme"\} 1/);

    // One hour later the entry has lapsed by itself: no restart, no "off" message needed.
    now += 60 * 60_000 + 1;
    exporter.reset();
    lines.length = 0;
    traffic();
    await handle.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(lines.filter((l) => l.includes('breadcrumb'))).toHaveLength(0);
  });

  it('covers every tenant of a service in service-wide incident mode', async () => {
    const source = new InMemoryIncidentModeSource();
    const exporter = new InMemorySpanExporter();
    handle = await initTelemetry({ service: 'svc-a', exporters: { spans: exporter }, sampling: { ratio: 0, tail: false, incidentSource: source }, metrics: { requestMetrics: false } });
    source.set({ tenant: null, service: 'svc-b', state: 'on', expires_at: null });
    withContext({ tenant_id: 'acme' }, () => withSpan('test.work', {}, () => undefined));
    source.set({ tenant: null, service: 'svc-a', state: 'on', expires_at: null });
    withContext({ tenant_id: 'acme' }, () => withSpan('test.work', {}, () => undefined));
    withSpan('test.work', {}, () => undefined);
    source.set({ tenant: null, service: 'svc-a', state: 'off', expires_at: null });
    withSpan('test.work', {}, () => undefined);
    await handle.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });
});

describe('HTTP incident-mode source', () => {
  async function serve(body: () => { status: number; text: string }): Promise<string> {
    const server = createServer((req, res) => {
      if (req.url !== '/telemetry/incidents/mode') {
        res.writeHead(404).end();
        return;
      }
      const r = body();
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.text);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('polls GET /telemetry/incidents/mode and keeps the last good set on errors', async () => {
    let response = { status: 200, text: JSON.stringify({ modes: [{ tenant: 'acme', service: null, state: 'on', expires_at: '2999-01-01T00:00:00Z' }] }) };
    const base = await serve(() => response);
    const errors: Error[] = [];
    const source = new HttpIncidentModeSource({ url: base, intervalMs: 60_000, onError: (e) => errors.push(e) });
    const seen: unknown[] = [];
    const unsubscribe = source.subscribe((modes) => seen.push(modes));
    await source.pollNow();
    expect(seen.at(-1)).toEqual([{ tenant: 'acme', service: null, state: 'on', expires_at: '2999-01-01T00:00:00Z' }]);

    response = { status: 200, text: '{"modes":[{"tenant":"","state":"on"}]}' };
    await source.pollNow();
    response = { status: 503, text: 'unavailable' };
    await source.pollNow();
    expect(errors.map((e) => e.message)).toEqual([
      'modes[0].tenant must be a non-empty string or null',
      'incident mode poll: HTTP 503',
    ]);
    expect(seen.at(-1)).toEqual([{ tenant: 'acme', service: null, state: 'on', expires_at: '2999-01-01T00:00:00Z' }]);

    response = { status: 200, text: JSON.stringify({ modes: [] }) };
    await source.pollNow();
    expect(seen.at(-1)).toEqual([]);
    unsubscribe();
    await source.close();
  });

  it('flips a running process to 100% for the tenant via the poller', async () => {
    let modes: unknown[] = [];
    const base = await serve(() => ({ status: 200, text: JSON.stringify({ modes }) }));
    const source = new HttpIncidentModeSource({ url: base, intervalMs: 60_000 });
    const exporter = new InMemorySpanExporter();
    handle = await initTelemetry({ service: 'poll-svc', exporters: { spans: exporter }, sampling: { ratio: 0, tail: false, incidentSource: source }, metrics: { requestMetrics: false } });
    await source.pollNow();
    withContext({ tenant_id: 'acme' }, () => withSpan('test.work', {}, () => undefined));
    modes = [{ tenant: 'acme', service: 'poll-svc', state: 'on', expires_at: null }];
    await source.pollNow();
    withContext({ tenant_id: 'acme' }, () => withSpan('test.work', {}, () => undefined));
    withContext({ tenant_id: 'other' }, () => withSpan('test.work', {}, () => undefined));
    await handle.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.attributes['stella.tenant_id'])).toEqual(['acme']);
  });

  it('rejects malformed documents with a typed error', () => {
    expect(() => parseIncidentModeDocument({ modes: [{ tenant: null, service: null, state: 'on' }] })).toThrow(
      expect.objectContaining({ code: 'INCIDENT_MODE_INVALID' }),
    );
    expect(() => parseIncidentModeDocument({ modes: [{ tenant: 'a', state: 'maybe' }] })).toThrow(/state/);
    expect(() => parseIncidentModeDocument({ modes: [{ tenant: 'a', state: 'on', expires_at: 'soon' }] })).toThrow(/expires_at/);
    expect(() => parseIncidentModeDocument([])).toThrow(/modes/);
  });
});
