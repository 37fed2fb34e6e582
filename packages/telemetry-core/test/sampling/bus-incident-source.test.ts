import { describe, expect, it } from 'vitest';
import { BusIncidentModeSource, IncidentModeRegistry, InProcessBus, incidentModeSubject, type IncidentMode } from '../../src/index.js';

const PREFIX = 'stellatest';

function publish(bus: InProcessBus, tenant: string, body: unknown, id: string): Promise<unknown> {
  return bus.publish(incidentModeSubject(tenant, PREFIX), Buffer.from(JSON.stringify(body)), { msgId: id });
}

/** Resolves with the next set a listener receives that satisfies `check` (bounded). */
function nextSet(source: BusIncidentModeSource, check: (modes: readonly IncidentMode[]) => boolean): Promise<readonly IncidentMode[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching incident set within 2 s')), 2000);
    const off = source.subscribe((modes) => {
      if (!check(modes)) return;
      clearTimeout(timer);
      queueMicrotask(() => off());
      resolve(modes);
    });
  });
}

describe('BusIncidentModeSource', () => {
  it('delivers each tenant’s complete set to every process and replaces it on change', async () => {
    const bus = new InProcessBus();
    const a = new BusIncidentModeSource({ bus, subjectPrefix: PREFIX, durable: 'proc-a' });
    const b = new BusIncidentModeSource({ bus, subjectPrefix: PREFIX, durable: 'proc-b' });
    await Promise.all([a.ready(), b.ready()]);
    let now = Date.parse('2025-03-01T10:00:00Z');
    const regA = new IncidentModeRegistry(() => now);
    const regB = new IncidentModeRegistry(() => now);
    regA.follow(a);
    regB.follow(b);
    expect(regA.isActive('acme', 'api')).toBe(false);

    const on = { tenant: 'acme', service: null, state: 'on', expires_at: '2025-03-01T12:00:00.000Z' };
    const seenA = nextSet(a, (m) => m.length === 1);
    const seenB = nextSet(b, (m) => m.length === 1);
    await publish(bus, 'acme', { tenant: 'acme', modes: [on] }, 'm1');
    expect(await seenA).toEqual([on]);
    expect(await seenB).toEqual([on]);
    expect(regA.isActive('acme', 'api')).toBe(true);
    expect(regB.isActive('acme', 'worker')).toBe(true);
    expect(regA.isActive('globex', 'api')).toBe(false);

    // Another tenant's message leaves acme's entry alone.
    const g = { tenant: 'globex', service: 'api', state: 'on', expires_at: null };
    const both = nextSet(a, (m) => m.length === 2);
    await publish(bus, 'globex', { tenant: 'globex', modes: [g] }, 'm2');
    expect(await both).toHaveLength(2);
    expect(regA.isActive('globex', 'api')).toBe(true);
    expect(regA.isActive('globex', 'worker')).toBe(false);

    // "Off" is the tenant's set without the entry.
    const offSeen = nextSet(a, (m) => m.length === 1 && m[0]!.tenant === 'globex');
    await publish(bus, 'acme', { tenant: 'acme', modes: [] }, 'm3');
    await offSeen;
    expect(regA.isActive('acme', 'api')).toBe(false);

    // Entries lapse at expires_at without any message.
    now = Date.parse('2025-03-01T13:00:00Z');
    expect(regA.isActive('globex', 'api')).toBe(true);
    await a.close();
    await b.close();
    await bus.close();
  });

  it('skips malformed messages and messages that speak for another tenant, and keeps working', async () => {
    const bus = new InProcessBus();
    const errors: string[] = [];
    const source = new BusIncidentModeSource({ bus, subjectPrefix: PREFIX, durable: 'proc-c', onError: (e) => errors.push(e.message) });
    await source.ready();
    await publish(bus, 'acme', 'not an object', 'x1');
    await bus.publish(incidentModeSubject('acme', PREFIX), Buffer.from('{broken'), { msgId: 'x2' });
    await publish(bus, 'acme', { tenant: 'acme', modes: [{ tenant: 'globex', service: null, state: 'on', expires_at: null }] }, 'x3');
    await publish(bus, 'acme', { tenant: 'globex', modes: [] }, 'x4');
    const good = nextSet(source, (m) => m.length === 1);
    await publish(bus, 'acme', { tenant: 'acme', modes: [{ tenant: 'acme', service: 'api', state: 'on', expires_at: null }] }, 'x5');
    expect(await good).toEqual([{ tenant: 'acme', service: 'api', state: 'on', expires_at: null }]);
    expect(errors).toHaveLength(4);
    expect(errors.join('\n')).toMatch(/another tenant/);
    await source.close();
    await bus.close();
  });

  it('starts from the initial set it is given', async () => {
    const bus = new InProcessBus();
    const initial: IncidentMode[] = [{ tenant: 'acme', service: null, state: 'on', expires_at: null }];
    const source = new BusIncidentModeSource({ bus, subjectPrefix: PREFIX, durable: 'proc-d', initial });
    const registry = new IncidentModeRegistry();
    registry.follow(source);
    expect(registry.isActive('acme', 'x')).toBe(true);
    await source.close();
    await bus.close();
  });
});
