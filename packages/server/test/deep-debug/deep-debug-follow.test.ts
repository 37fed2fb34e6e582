/**
 * A grant set through the API reaches another process, which relaxes redaction for that tenant
 * only and logs that it did: over NATS JetStream (every replica and service on the platform
 * bus), and — on embedded defaults, where the service's bus is its own — by polling
 * `GET /telemetry/deep-debug` with a platform-wide service token, as the workload does. In that
 * process the tenant's e-mail address shows in its log lines while another tenant's stays
 * redacted, secrets stay redacted in both, and switching it off makes both strict again.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsJetStreamBus } from '../../src/bus/nats-jetstream-bus.js';
import { NATS_URL, natsAvailable } from '../helpers/external.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { probe, startFollower, type Follower } from './follower.js';

const TENANT = 'acme';
const OTHER = 'globex';
const SRE = 'user:sre-1';
const STRICT = { emailShown: false, emailRedacted: true, secretShown: false };
const RELAXED = { emailShown: true, emailRedacted: false, secretShown: false };

/** On, checked in the follower's lines, off, checked again. */
async function grantReachesFollower(t: ReceiverService, follower: Follower): Promise<void> {
  const admin = await t.token(TENANT, [`stella:telemetry:admin#tenant/${TENANT}`], { subject: SRE });
  const headers = { authorization: `Bearer ${admin}` };
  expect(await probe(follower, [TENANT, OTHER])).toEqual({ [TENANT]: STRICT, [OTHER]: STRICT });

  const reason = `support case ${randomBytes(2).toString('hex')}`;
  const on = await t.service.app.inject({ method: 'POST', url: '/telemetry/deep-debug', headers, payload: { tenant: TENANT, ttl: '30m', reason } });
  expect(on.statusCode, on.body).toBe(200);
  const grant = on.json().grant as { expires_at: string };
  // The follower logs the grant it applied, with who and why.
  const applied = await follower.line((l) => l.action === 'deep_debug.enabled' && l.tenant_id === TENANT, 'the follower to apply the grant');
  expect(applied).toMatchObject({ level: 'warn', actor: SRE, details: { reason, expires_at: grant.expires_at } });
  expect(await probe(follower, [TENANT, OTHER])).toEqual({ [TENANT]: RELAXED, [OTHER]: STRICT });

  const off = await t.service.app.inject({ method: 'DELETE', url: `/telemetry/deep-debug/${TENANT}`, headers });
  expect(off.statusCode, off.body).toBe(200);
  const dropped = await follower.line((l) => l.action === 'deep_debug.disabled' && l.tenant_id === TENANT, 'the follower to drop the grant');
  expect(dropped).toMatchObject({ level: 'warn', actor: SRE, details: { reason } });
  expect(await probe(follower, [TENANT, OTHER])).toEqual({ [TENANT]: STRICT, [OTHER]: STRICT });
  expect(follower.lines.filter((l) => String(l.action).startsWith('deep_debug.')).map((l) => [l.action, l.tenant_id])).toEqual([
    ['deep_debug.enabled', TENANT],
    ['deep_debug.disabled', TENANT],
  ]);
}

const natsUp = await natsAvailable();

describe.skipIf(!natsUp)('deep debug over NATS JetStream', () => {
  const run = randomBytes(4).toString('hex');
  const prefix = `stelladd${run}`;
  const stream = `STELLA_DD_${run}`;
  let t: ReceiverService;
  let follower: Follower | undefined;

  beforeAll(async () => {
    t = await startReceiver({}, ['--nats-url', NATS_URL, '--nats-stream', stream, '--subject-prefix', prefix]);
    follower = await startFollower({ FOLLOW: 'nats', NATS_URL, NATS_STREAM: stream, SUBJECT_PREFIX: prefix });
  }, 60_000);

  afterAll(async () => {
    await follower?.stop();
    await (t?.service.bus as NatsJetStreamBus | undefined)?.deleteStream().catch(() => undefined);
    await t?.stop();
  });

  it("reaches another process, which relaxes that tenant's e-mail redaction only and logs it", async () => {
    expect(t.service.bus.kind).toBe('nats-jetstream');
    await grantReachesFollower(t, follower!);
  });
});

describe('deep debug polled by a process without the bus (embedded defaults)', () => {
  let t: ReceiverService;
  let follower: Follower | undefined;

  beforeAll(async () => {
    t = await startReceiver();
    // A service account as the workload has: platform-wide, the tenant named per request.
    const serviceToken = await t.service.devAuthority!.mint({ scopes: ['stella:telemetry:write'], subject: 'svc:follower', ttlSeconds: 3600 });
    const url = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;
    follower = await startFollower({ FOLLOW: 'http', STELLA_URL: url, STELLA_TOKEN: serviceToken, TENANTS: `${TENANT},${OTHER}` });
  }, 60_000);

  afterAll(async () => {
    await follower?.stop();
    await t?.stop();
  });

  it("reaches another process, which relaxes that tenant's e-mail redaction only and logs it", async () => {
    expect(t.service.bus.kind).toBe('in-process');
    await grantReachesFollower(t, follower!);
    expect(follower!.lines.filter((l) => l.msg === 'deep-debug poll failed')).toEqual([]);
  });
});
