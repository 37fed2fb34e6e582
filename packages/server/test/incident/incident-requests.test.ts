/**
 * INC-3: the Orchestrator switches incident mode over the bus. A request on
 * `<prefix>.<tenant>.incident.request` turns the tenant's (or one service's) mode on and off
 * through the incident controller (trigger `orchestrator`, audited); a malformed request and one
 * the controller refuses are answered with an `audit.incident.request_refused` event, and the
 * consumer carries on.
 */
import { incidentRequestSubject } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRuntime } from '../../src/incident/incident-feature.js';
import type { TimelineRuntime } from '../../src/timeline/timeline-feature.js';
import { startTestService, type TestService } from '../helpers/service.js';

const TENANT = 'acme';
let t: TestService;
let sent = 0;

async function request(tenant: string, body: unknown): Promise<void> {
  const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  await t.service.bus.publish(incidentRequestSubject(tenant, t.service.config.subjectPrefix), data, { msgId: `req-${++sent}` });
}

/** Waits (polling, with a deadline) until `check` holds. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const refusals = async (): Promise<{ reason: string }[]> => {
  const repo = (t.service.features.get('timeline') as TimelineRuntime).repository;
  const page = await repo.page(TENANT, { from: new Date(0), to: new Date(Date.now() + 86_400_000), kind: 'audit.incident.request_refused', limit: 100 });
  return page.events.map((e) => e.details as { reason: string });
};

beforeAll(async () => {
  t = await startTestService({}, ['--incident-cooldown-minutes', '30']);
});
afterAll(async () => {
  await t?.stop();
});

describe('incident requests over the bus', () => {
  it('turn a service’s incident mode on and off, as the orchestrator, audited', async () => {
    await request(TENANT, { state: 'on', service: 'checkout', ttl_minutes: 30, reason: 'deploy 42 rolling back', requested_by: 'release-7' });
    const modes = await until('the mode to be on', () => t.service.parts.incidents.modes(TENANT), (m) => m.length === 1);
    expect(modes[0]).toMatchObject({ tenant: TENANT, service: 'checkout', state: 'on' });
    const [incident] = await t.service.parts.incidents.history(TENANT, 1);
    expect(incident).toMatchObject({ trigger: 'orchestrator', reason: 'deploy 42 rolling back', started_by: 'orchestrator:release-7' });

    await request(TENANT, { state: 'off', service: 'checkout', reason: 'rolled back' });
    await until('the mode to be off', () => t.service.parts.incidents.modes(TENANT), (m) => m.length === 0);
    expect((t.service.features.get('incident') as IncidentRuntime).requests.stats.applied).toBe(2);
  });

  it('answer malformed and refused requests with an audit event, and keep consuming', async () => {
    await request(TENANT, 'not json');
    await request(TENANT, { state: 'maybe', reason: 'x' });
    await request(TENANT, { state: 'on', reason: 'x', ttl_minutes: 10_000_000 });
    // An automatic trigger inside the cooldown after the incident that just ended is refused.
    await request(TENANT, { state: 'on', service: 'checkout', reason: 'again' });
    const refused = await until('four refusals', refusals, (r) => r.length === 4);
    expect(refused.map((r) => r.reason).sort()).toEqual(
      [expect.stringMatching(/^incident\.cooldown: /), expect.stringMatching(/^state must be/), expect.stringMatching(/^the request is not JSON/), expect.stringMatching(/^ttl_minutes must be/)].sort((a, b) => String(a).localeCompare(String(b))),
    );
    // …and the next good request still acts.
    await request(TENANT, { state: 'on', reason: 'tenant-wide' });
    await until('the tenant-wide mode', () => t.service.parts.incidents.modes(TENANT), (m) => m.some((x) => x.service === '' || x.service === null));
  });
});
