import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context as otelContext, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { currentContext, initTelemetry, installFetchPropagation, openSpan, tracedFetch, withSpan, type TelemetryHandle } from '../../src/index.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** What the server saw of one request: its headers and every raw `traceparent` line. */
interface Seen {
  headers: IncomingHttpHeaders;
  traceparents: string[];
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const traceparents: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'traceparent') traceparents.push(req.rawHeaders[i + 1]!);
    seen.push({ headers: req.headers, traceparents });
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('fetch-propagation-test');
const uninstalls: Array<() => void> = [];
afterEach(() => {
  for (const uninstall of uninstalls.splice(0)) uninstall();
  exporter.reset();
  seen.splice(0);
});

function install(options: Parameters<typeof installFetchPropagation>[0] = {}): () => void {
  const uninstall = installFetchPropagation({ tracer, ...options });
  uninstalls.push(uninstall);
  return uninstall;
}

/** Runs `fn` inside a recorded caller span; returns its result and the caller's ids. */
async function inCallerSpan<T>(fn: () => Promise<T>): Promise<{ result: T; traceId: string; spanId: string }> {
  const scope = openSpan('test.caller', { tracer });
  try {
    const result = await otelContext.with(scope.ctx, fn);
    return { result, traceId: scope.span.spanContext().traceId, spanId: scope.span.spanContext().spanId };
  } finally {
    scope.span.end();
  }
}

async function get(path: string): Promise<number> {
  const res = await fetch(`${base}${path}`);
  await res.text();
  return res.status;
}

describe('installFetchPropagation', () => {
  it('sends traceparent with the active trace id, parented on an http.client span that records the response', async () => {
    install();
    const { traceId, spanId } = await inCallerSpan(() => get('/sboms?page=2'));

    expect(seen).toHaveLength(1);
    const [, sentTrace, sentParent] = TRACEPARENT.exec(seen[0]!.traceparents[0] ?? '') ?? [];
    expect(sentTrace).toBe(traceId);
    const client = exporter.getFinishedSpans().find((s) => s.name === 'http.client')!;
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(client.spanContext().traceId).toBe(traceId);
    expect(client.parentSpanContext?.spanId).toBe(spanId);
    // The server's parent is the client span, not the caller's span.
    expect(sentParent).toBe(client.spanContext().spanId);
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': (server.address() as AddressInfo).port,
      'url.path': '/sboms',
      'http.response.status_code': 200,
    });
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('sends the baggage of the active context', async () => {
    install();
    await inCallerSpan(() => {
      const withBaggage = propagation.setBaggage(otelContext.active(), propagation.createBaggage({ 'stella.tenant': { value: 'acme' } }));
      return otelContext.with(withBaggage, () => get('/baggage'));
    });
    expect(seen[0]!.headers['baggage']).toBe('stella.tenant=acme');
  });

  it('leaves a request made outside any span alone', async () => {
    install();
    expect(await get('/background')).toBe(200);
    expect(seen[0]!.traceparents).toEqual([]);
    expect(seen[0]!.headers['baggage']).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('sends one traceparent, tracedFetch’s own, when tracedFetch is used', async () => {
    install();
    const { traceId, result } = await inCallerSpan(async () => {
      const res = await tracedFetch(`${base}/traced`);
      await res.text();
      return res.status;
    });
    expect(result).toBe(200);
    expect(seen[0]!.traceparents).toHaveLength(1);
    expect(TRACEPARENT.exec(seen[0]!.traceparents[0]!)?.[1]).toBe(traceId);
    // tracedFetch opened the client span; no second one here.
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'http.client')).toEqual([]);
  });

  it('keeps a traceparent the caller set', async () => {
    install();
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await inCallerSpan(async () => (await fetch(`${base}/own`, { headers: { traceparent: own } })).text());
    expect(seen[0]!.traceparents).toEqual([own]);
  });

  it('injects once when installed twice, and each installation removes only itself', async () => {
    const first = install();
    install();
    await inCallerSpan(() => get('/twice'));
    expect(seen[0]!.traceparents).toHaveLength(1);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'http.client')).toHaveLength(1);

    first();
    await inCallerSpan(() => get('/second-only'));
    expect(seen[1]!.traceparents).toHaveLength(1);
  });

  it('stops injecting once uninstalled', async () => {
    const uninstall = install();
    await inCallerSpan(() => get('/before'));
    uninstall();
    uninstall();
    await inCallerSpan(() => get('/after'));
    expect(seen.map((s) => s.traceparents.length)).toEqual([1, 0]);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'http.client')).toHaveLength(1);
  });

  it('keeps propagation to the destinations propagateTo accepts', async () => {
    install({ propagateTo: (url) => url.pathname.startsWith('/internal/') });
    await inCallerSpan(async () => {
      await get('/internal/sboms');
      await get('/external');
    });
    expect(seen.map((s) => s.traceparents.length)).toEqual([1, 0]);
  });

  it('marks the client span failed on a 5xx answer and on a connection error', async () => {
    install();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    await inCallerSpan(async () => {
      expect(await get('/fail')).toBe(503);
      await expect(fetch(`http://127.0.0.1:${deadPort}/gone`)).rejects.toThrow();
    });
    const clients = exporter.getFinishedSpans().filter((s) => s.name === 'http.client');
    expect(clients).toHaveLength(2);
    const answered = clients.find((s) => s.attributes['url.path'] === '/fail')!;
    expect(answered.attributes['http.response.status_code']).toBe(503);
    expect(answered.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });
    const refused = clients.find((s) => s.attributes['url.path'] === '/gone')!;
    expect(refused.status).toEqual({ code: SpanStatusCode.ERROR, message: 'fetch failed' });
    expect(refused.events.map((e) => e.name)).toContain('exception');
  });

  it('propagates without an SDK: the header continues the caller’s trace', async () => {
    install({ tracer: trace.getTracer('no-sdk') });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const caller = trace.setSpanContext(otelContext.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: 1 });
    await otelContext.with(caller, () => get('/no-sdk'));
    const [, sentTrace, sentParent] = TRACEPARENT.exec(seen[0]!.traceparents[0] ?? '') ?? [];
    expect(sentTrace).toBe(traceId);
    expect(sentParent).not.toBe('00f067aa0ba902b7');
  });
});

describe('under initTelemetry', () => {
  let handle: TelemetryHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown({ timeoutMs: 500 });
    handle = undefined;
    delete process.env['STELLA_FETCH_PROPAGATION'];
  });

  async function start(): Promise<InMemorySpanExporter> {
    const spans = new InMemorySpanExporter();
    handle = await initTelemetry({ service: 'fetch-propagation', exporters: { spans }, sampling: { ratio: 1, tail: false } });
    return spans;
  }

  it('plain fetch continues the trace while telemetry runs, and stops after shutdown', async () => {
    const spans = await start();
    const caller = await withSpan('test.caller', {}, async () => {
      await get('/under-init');
      return currentContext();
    });
    await handle!.forceFlush();
    expect(TRACEPARENT.exec(seen[0]!.traceparents[0] ?? '')?.[1]).toBe(caller.trace_id);
    const client = spans.getFinishedSpans().find((s) => s.name === 'http.client')!;
    expect(client.parentSpanContext?.spanId).toBe(caller.span_id);
    expect(TRACEPARENT.exec(seen[0]!.traceparents[0]!)?.[2]).toBe(client.spanContext().spanId);

    await handle!.shutdown({ timeoutMs: 500 });
    handle = undefined;
    await otelContext.with(openSpan('test.after').ctx, () => get('/after-shutdown'));
    expect(seen[1]!.traceparents).toEqual([]);
  });

  it('is not installed with STELLA_FETCH_PROPAGATION=0', async () => {
    process.env['STELLA_FETCH_PROPAGATION'] = '0';
    await start();
    await withSpan('test.caller', {}, () => get('/opted-out'));
    expect(seen[0]!.traceparents).toEqual([]);
  });
});
