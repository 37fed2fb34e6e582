import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@stellaops/telemetry-core';
import { OtlpError } from '../../src/otlp/otlp-error.js';
import { DEFAULT_PREPARE_LIMITS, prepareRequest, type PreparedRequest } from '../../src/otlp/otlp-prepare.js';
import { OtlpScrubber } from '../../src/otlp/otlp-scrub.js';
import { PreparePool, type PreparePoolOptions, type PrepareRequest } from '../../src/otlp/prepare-pool.js';
import type { Census } from '../../src/otlp/request-census.js';
import { spanEntries, traceRequest } from './otlp-bodies.js';

const logger = createLogger({ service: 'prepare-pool-test', level: 'fatal' });
const NO_LIMIT = { maxItems: 1e9, maxValues: 1e9 };
const pools: PreparePool[] = [];

function pool(options: Partial<PreparePoolOptions> = {}): PreparePool {
  const p = new PreparePool({ logger, size: 1, ...options });
  pools.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function request(body: Uint8Array, overrides: Partial<PrepareRequest> = {}): PrepareRequest {
  return { tenant: 'acme', signal: 'traces', format: 'protobuf', body, receivedAtMs: 1_700_000_000_000, limits: DEFAULT_PREPARE_LIMITS, census: NO_LIMIT, ...overrides };
}

async function refusal(promise: Promise<unknown>): Promise<OtlpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OtlpError);
    return error as OtlpError;
  }
  throw new Error('expected a refusal');
}

describe('prepare pool', () => {
  it('prepares in a worker exactly what prepareRequest gives on the event loop, rows in chunks included', async () => {
    // 6000 traces of one root span each: 6000 trace ids and 6000 span rows (more than one chunk).
    const body = traceRequest(spanEntries(6000, 6000));
    const inline = prepareRequest('acme', 'traces', Buffer.from(body), 'protobuf', new OtlpScrubber(), 1_700_000_000_000);
    const censuses: Census[] = [];
    const p = pool();
    const prepared: PreparedRequest = await p.prepare(request(Buffer.from(body)), (c) => censuses.push(c));
    expect(censuses).toEqual([{ items: 6000, values: 4 }]); // resourceSpans, resource, its attribute, scopeSpans
    expect(prepared.accepted).toBe(6000);
    expect(Buffer.from(prepared.payload).equals(Buffer.from(inline.payload))).toBe(true);
    expect(prepared.rows.spans).toHaveLength(6000);
    expect(prepared.rows).toEqual(inline.rows);
    expect(p.workers).toBe(1);
  });

  it('stops before decoding when the census callback refuses, and serves the next request', async () => {
    const p = pool();
    const refused = await refusal(
      p.prepare(request(traceRequest(spanEntries(2000, 2))), () => {
        throw new OtlpError('otlp.overloaded', 'no room', 1);
      }),
    );
    expect(refused.code).toBe('otlp.overloaded');
    expect(refused.retryAfterSeconds).toBe(1);
    const next = await p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined);
    expect(next.accepted).toBe(10);
  });

  it('returns errors raised in the worker as the same OtlpError: code, status, message, Retry-After', async () => {
    const p = pool();
    const tooMany = await refusal(p.prepare(request(traceRequest(spanEntries(500, 1)), { census: { maxItems: 100, maxValues: 1e9 } }), () => undefined));
    expect(tooMany.code).toBe('otlp.too_many_items');
    expect(tooMany.httpStatus).toBe(413);
    expect(tooMany.message).toBe('otlp.too_many_items: the request holds more than 100 spans, the limit per request (STELLA_OTLP_MAX_ITEMS_PER_REQUEST); send smaller batches');
    const mismatch = await refusal(p.prepare(request(traceRequest(spanEntries(10, 1), 'globex', 'tenant.id')), () => undefined));
    expect(mismatch.code).toBe('otlp.tenant_mismatch');
    expect(mismatch.message).toMatch(/^otlp\.tenant_mismatch: resource attribute tenant\.id="globex"/);
    const json = await refusal(p.prepare(request(Buffer.from('{"resourceSpans": ['), { format: 'json' }), () => undefined));
    expect(json.code).toBe('otlp.malformed_json');
    expect(p.replaced).toBe(0);
  });

  it('a worker that runs out of its heap is replaced; its request gets 503, the next one is served', async () => {
    const p = pool({ heapLimitMb: 64 });
    // 200k spans decode to ~100 MB of objects: past a 64 MiB heap.
    const crashed = await refusal(p.prepare(request(traceRequest(spanEntries(200_000, 200))), () => undefined));
    expect(crashed.code).toBe('otlp.unavailable');
    expect(crashed.httpStatus).toBe(503);
    expect(crashed.retryAfterSeconds).toBe(1);
    expect(p.replaced).toBe(1);
    const next = await p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined);
    expect(next.accepted).toBe(10);
  });

  it('a worker that overruns the task timeout is replaced and its request gets 503', async () => {
    // The timeout runs from when the worker is ready: its start does not count, 200k spans (~1 s) do.
    const p = pool({ taskTimeoutMs: 300 });
    expect((await p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined)).accepted).toBe(10);
    const slow = await refusal(p.prepare(request(traceRequest(spanEntries(200_000, 200))), () => undefined));
    expect(slow.code).toBe('otlp.unavailable');
    expect(slow.message).toMatch(/took too long/);
    expect(p.replaced).toBeGreaterThanOrEqual(1);
    expect((await p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined)).accepted).toBe(10);
  });

  it('refuses with 503 + Retry-After when every worker is busy and the queue is full', async () => {
    const p = pool({ queueLimit: 1 });
    const first = p.prepare(request(traceRequest(spanEntries(50_000, 50))), () => undefined);
    const second = p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined);
    const third = await refusal(p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined));
    expect(third.code).toBe('otlp.overloaded');
    expect(third.httpStatus).toBe(503);
    expect(third.retryAfterSeconds).toBe(1);
    expect((await first).accepted).toBe(50_000);
    expect((await second).accepted).toBe(10);
  });

  it('close() answers requests in progress and waiting with 503 and terminates the workers', async () => {
    const p = pool({ queueLimit: 4 });
    const inProgress = refusal(p.prepare(request(traceRequest(spanEntries(100_000, 100))), () => undefined));
    const waiting = refusal(p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined));
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    expect((await inProgress).code).toBe('otlp.unavailable');
    expect((await waiting).code).toBe('otlp.unavailable');
    expect(p.workers).toBe(0);
    expect((await refusal(p.prepare(request(traceRequest(spanEntries(10, 1))), () => undefined))).code).toBe('otlp.unavailable');
  });
});
