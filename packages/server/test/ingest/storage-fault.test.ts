/**
 * A storage fault is the service's problem, not the client's: when a tenant's segment cannot be
 * created or written, OTLP answers 503 `otlp.unavailable` with Retry-After (the exporter retries),
 * stores nothing, and other tenants are unaffected.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_TYPES } from '../../src/segments/signal-records.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

function body(): Uint8Array {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const type = REQUEST_TYPES.traces;
  return type.encode(type.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), name: 'x', kind: 2, startTimeUnixNano: now, endTimeUnixNano: now }] }] }] }) as never).finish();
}

describe('OTLP on a storage fault', () => {
  let t: ReceiverService;
  beforeAll(async () => {
    t = await startReceiver();
  });
  afterAll(async () => t?.stop());

  it('answers 503 otlp.unavailable with Retry-After for the tenant whose segment cannot be written, and serves the others', async () => {
    // The new tenant's folder cannot be created: a file stands where it would go (the same for root and non-root users, unlike permissions).
    writeFileSync(join(t.telemetry.segments.root, 'broken'), 'not a directory');
    const send = async (tenant: string) =>
      fetch(`http://127.0.0.1:${t.ports.http}/v1/traces`, {
        method: 'POST',
        body: body(),
        headers: { authorization: `Bearer ${await t.token(tenant, [`stella:telemetry:write#tenant/${tenant}`])}`, 'content-type': 'application/x-protobuf' },
      });
    const refused = await send('broken');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-stella-error-code')).toBe('otlp.unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const fine = await send('healthy');
    expect(fine.status).toBe(200);
  });
});
