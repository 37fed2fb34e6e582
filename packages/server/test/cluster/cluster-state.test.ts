/**
 * SCALE-1 on a real cluster (three child-process replicas on one PostgreSQL database, one NATS
 * stream, shared evidence and key directories): state set through one replica applies on the
 * others within 2 s — incident mode (and its gauge), deep debug, a key rotation, an SLO breach;
 * a timeline event sent to two replicas is stored once; two replicas snapshotting one case at
 * once make exactly one complete bundle, which verifies and downloads through a third; and when
 * the leader is killed with SIGKILL under load another replica runs the periodic jobs within
 * seconds.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ROOT_CONTEXT, SamplingDecision, TraceFlags, trace } from '@opentelemetry/api';
import { Keyring, verifyBundleStream } from '@stellaops/forensics';
import { contextWithFields, HttpIncidentModeSource, IncidentModeRegistry, StellaHeadSampler } from '@stellaops/telemetry-core';
import { CASE_LOCK_CLASS } from '../../src/evidence/case-locks.js';
import { clusterAvailable, startCluster, type Cluster, type Replica } from '../helpers/cluster.js';

const up = await clusterAvailable();
/** The bound SCALE-1 states for cluster-wide state. */
const PROPAGATION_MS = 2000;
const SCOPES = [
  'stella:incident:admin',
  'stella:obs:read',
  'stella:telemetry:admin',
  'stella:timeline:read',
  'stella:timeline:write',
  'stella:evidence:create',
  'stella:evidence:read',
  'stella:evidence:export',
  'stella:evidence:admin',
];

/** Polls `check` until it answers a value, or fails after `timeoutMs`; resolves to the value and the time it took. */
async function within<T>(timeoutMs: number, what: string, check: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!up)('cluster-wide state and one leader (SCALE-1)', () => {
  let cluster: Cluster;
  let token: string;
  const measured: Record<string, number> = {};

  beforeAll(async () => {
    cluster = await startCluster({ replicas: 3, env: { STELLA_SEGMENT_SEAL_INTERVAL_MS: '1000' } });
    token = await cluster.token('acme', SCOPES);
  }, 180_000);
  afterAll(async () => {
    if (Object.keys(measured).length > 0) console.info(`SCALE-1 measured (ms): ${JSON.stringify(measured)}`);
    await cluster?.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are asserted field by field
  const call = async (replica: Replica, method: string, path: string, body?: unknown, tenant = 'acme', bearer = token): Promise<{ status: number; json: any }> => {
    const res = await replica.fetch(path, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'x-stella-tenant': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  const others = (replica: Replica): Replica[] => cluster.replicas.filter((r) => r !== replica && r.running);
  const readiness = async (r: Replica): Promise<{ leader: boolean }> => (await r.fetch('/readyz')).json() as Promise<{ leader: boolean }>;

  it('elects one leader and reports it on /readyz and /metrics', async () => {
    const { value: leaders } = await within(10_000, 'one leader', async () => {
      const flags = await Promise.all(cluster.replicas.map(async (r) => (await readiness(r)).leader));
      return flags.filter(Boolean).length === 1 ? flags : undefined;
    });
    const leader = cluster.replicas[leaders.indexOf(true)]!;
    for (const r of cluster.replicas) {
      const metrics = await (await r.fetch('/metrics')).text();
      expect(metrics).toMatch(new RegExp(`^stella_leader\\{lock="periodic_jobs"\\} ${r === leader ? 1 : 0}$`, 'm'));
    }
  });

  it('incident mode switched on through one replica is on for the others, gauge included, within 2 s', async () => {
    const [a] = cluster.replicas;
    const on = await call(a!, 'POST', '/telemetry/incidents/mode', { state: 'on', ttl: '30m', reason: 'cluster test', service: 'scanner' });
    expect(on.status, JSON.stringify(on.json)).toBe(200);
    for (const r of others(a!)) {
      const { ms } = await within(PROPAGATION_MS, `incident mode on ${r.id}`, async () => {
        const res = await call(r, 'GET', '/telemetry/incidents/mode');
        return res.json.modes?.some((m: { service: string | null }) => m.service === 'scanner') ? true : undefined;
      });
      const gauge = await within(PROPAGATION_MS, `the incident gauge on ${r.id}`, async () => {
        const series = (await (await r.fetch('/metrics')).text()).split('\n').filter((l) => l.startsWith('telemetry_incident_mode{'));
        return series.some((l) => l.includes('tenant="acme"') && l.includes('state="on"') && l.endsWith(' 1')) ? true : undefined;
      });
      measured[`incident_mode_${r.id}`] = Math.round(ms);
      measured[`incident_gauge_${r.id}`] = Math.round(gauge.ms);
    }
    const off = await call(cluster.replicas[1]!, 'POST', '/telemetry/incidents/mode', { state: 'off', service: 'scanner' });
    expect(off.status).toBe(200);
    for (const r of others(cluster.replicas[1]!)) {
      await within(PROPAGATION_MS, `incident mode off on ${r.id}`, async () => ((await call(r, 'GET', '/telemetry/incidents/mode')).json.modes?.length === 0 ? true : undefined));
    }
  });

  it("a service's sampler follows incident mode switched through another replica within 2 s, whichever replica it polls", async () => {
    const [a, ...polled] = cluster.replicas;
    // What a StellaOps process runs: telemetry-core's incident source (polling each second, as the
    // reference workload does) feeding the registry its head sampler consults; one per replica polled.
    const followers = polled.map((r) => {
      const source = new HttpIncidentModeSource({ url: r.apiUrl, intervalMs: 1000, headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' } });
      const incidents = new IncidentModeRegistry();
      const unfollow = incidents.follow(source);
      return { replica: r, source, unfollow, sampler: new StellaHeadSampler({ service: 'policy-engine', ratio: 0, incidents }) };
    });
    // An unsampled request of acme: dropped at ratio 0, unless incident mode is on.
    const unsampledParent = trace.setSpanContext(contextWithFields({ tenant_id: 'acme' }, ROOT_CONTEXT), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE });
    const decision = (sampler: StellaHeadSampler): SamplingDecision => sampler.shouldSample(unsampledParent, '4bf92f3577b34da6a3ce929d0e0e4736').decision;
    try {
      for (const f of followers) expect(decision(f.sampler)).toBe(SamplingDecision.NOT_RECORD);
      const on = await call(a!, 'POST', '/telemetry/incidents/mode', { state: 'on', ttl: '30m', reason: 'cluster test: sampling', service: 'policy-engine' });
      expect(on.status, JSON.stringify(on.json)).toBe(200);
      const switched = performance.now();
      await Promise.all(
        followers.map(async (f) => {
          await within(PROPAGATION_MS, `the sampler polling ${f.replica.id} to sample everything`, async () => (decision(f.sampler) === SamplingDecision.RECORD_AND_SAMPLED ? true : undefined));
          measured[`sampler_incident_on_via_${f.replica.id}`] = Math.round(performance.now() - switched);
        }),
      );
      const off = await call(a!, 'POST', '/telemetry/incidents/mode', { state: 'off', service: 'policy-engine' });
      expect(off.status).toBe(200);
      await Promise.all(followers.map((f) => within(PROPAGATION_MS, `the sampler polling ${f.replica.id} back to its ratio`, async () => (decision(f.sampler) === SamplingDecision.NOT_RECORD ? true : undefined))));
    } finally {
      for (const f of followers) {
        f.unfollow();
        await f.source.close();
      }
    }
  });

  it('deep debug granted through one replica is in force on the others within 2 s', async () => {
    const b = cluster.replicas[1]!;
    const on = await call(b, 'POST', '/telemetry/deep-debug', { ttl: '30m', reason: 'cluster test' });
    expect(on.status, JSON.stringify(on.json)).toBe(200);
    for (const r of others(b)) {
      const { ms } = await within(PROPAGATION_MS, `deep debug on ${r.id}`, async () => ((await call(r, 'GET', '/telemetry/deep-debug')).json.state === 'on' ? true : undefined));
      measured[`deep_debug_${r.id}`] = Math.round(ms);
    }
  });

  it('a key rotated through one replica is the key every replica signs with within 2 s', async () => {
    const c = cluster.replicas[2]!;
    const rotated = await call(c, 'POST', '/evidence/keys/rotate', {});
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    const keyId = rotated.json.key_id as string;
    for (const r of others(c)) {
      const { ms } = await within(PROPAGATION_MS, `the rotated key on ${r.id}`, async () => ((await call(r, 'GET', '/evidence/keyring')).json.current_key_id === keyId ? true : undefined));
      measured[`key_rotation_${r.id}`] = Math.round(ms);
      // And it signs with it.
      const id = `rot-${r.id}`;
      const attached = await call(r, 'POST', '/evidence/artifacts', { resource_type: 'export', resource_id: id, role: 'export-file', name: 'report.json', media_type: 'application/json', content_base64: Buffer.from(`{"id":"${id}"}`).toString('base64') });
      expect(attached.status, JSON.stringify(attached.json)).toBeLessThan(300);
      const snap = await call(r, 'POST', '/evidence/snapshot', { kind: 'export', resource_id: id, case_id: `case-${id}` });
      expect(snap.status, JSON.stringify(snap.json)).toBe(201);
      expect(snap.json.signer_key_id).toBe(keyId);
    }
  });

  it('an SLO breach posted to one replica is open, with its incident mode, on the others within 2 s', async () => {
    const a = cluster.replicas[0]!;
    const alert = {
      status: 'firing',
      labels: { alertname: 'SLOErrorBudgetBurn', severity: 'page', slo: 'export-bundle-latency', service: 'export-center', long_window: '1h' },
      annotations: { summary: 'burning' },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: 'cluster-test',
    };
    const res = await call(a, 'POST', '/telemetry/alerts/alertmanager', { version: '4', status: 'firing', receiver: 'stella', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am', alerts: [alert] }, 'globex');
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.alerts[0].outcome).toBe('opened');
    for (const r of others(a)) {
      const { ms } = await within(PROPAGATION_MS, `the breach on ${r.id}`, async () => {
        const slo = await call(r, 'GET', '/obs/slo', undefined, 'globex');
        return slo.json.breaches?.some((b: { slo: string; resolved_at: string | null }) => b.slo === 'export-bundle-latency' && b.resolved_at === null) ? true : undefined;
      });
      await within(PROPAGATION_MS, `the breach's incident mode on ${r.id}`, async () =>
        (await call(r, 'GET', '/telemetry/incidents/mode', undefined, 'globex')).json.modes?.some((m: { service: string }) => m.service === 'export-center') ? true : undefined,
      );
      measured[`slo_breach_${r.id}`] = Math.round(ms);
      // The same alert through another replica acts on the one open breach.
      const again = await call(r, 'POST', '/telemetry/alerts/alertmanager', { version: '4', status: 'firing', receiver: 'stella', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am', alerts: [alert] }, 'globex');
      expect(again.json.alerts[0].outcome).toBe('already_open');
    }
  });

  it('stores a timeline event sent to two replicas once', async () => {
    const event = { kind: 'policy.evaluated', event_id: randomUUID(), ts: new Date().toISOString(), resource_type: 'sbom', resource_id: 'sbom-twice', details: { n: 1 } };
    const [a, b] = cluster.replicas;
    const answers = await Promise.all([a!, b!].map((r) => call(r, 'POST', '/timeline/events', { events: [event] })));
    expect(answers.map((x) => x.status)).toEqual([202, 202]);
    // The bus accepted it once: one of the two answers says it was a duplicate.
    expect(answers.map((x) => x.json.duplicates).sort()).toEqual([0, 1]);
    await within(10_000, 'the event stored', async () => ((await call(cluster.replicas[2]!, 'GET', `/timeline/${event.event_id}`)).status === 200 ? true : undefined));
    const owner = new pg.Client({ connectionString: cluster.database.ownerUrl });
    await owner.connect();
    try {
      // The indexers of all three replicas had time to store a second copy had there been one.
      await within(3000, 'every consumer caught up', async () => {
        const r = await owner.query<{ pending: number }>("SELECT count(*)::int AS pending FROM timeline_events WHERE tenant_id = 'acme' AND resource_id = 'sbom-twice'");
        return r.rows[0]!.pending >= 1 ? true : undefined;
      });
      const { rows } = await owner.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events WHERE event_id = $1', [event.event_id]);
      expect(rows[0]!.n).toBe(1);
    } finally {
      await owner.end();
    }
  });

  it('two replicas snapshotting one case at once make one complete bundle, verified and downloaded through a third', async () => {
    const [a, b, c] = cluster.replicas;
    const attach = async (id: string): Promise<void> => {
      const content = Buffer.from(JSON.stringify({ id, rows: Array.from({ length: 20_000 }, (_, i) => i) }));
      const res = await call(a!, 'POST', '/evidence/artifacts', { resource_type: 'export', resource_id: id, role: 'export-file', name: 'report.json', media_type: 'application/json', content_base64: content.toString('base64') });
      expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
    };
    const owner = new pg.Client({ connectionString: cluster.database.ownerUrl });
    await owner.connect();
    const count = async (table: string, caseId: string): Promise<number> =>
      (await owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = 'acme' AND case_id = $1`, [caseId])).rows[0]!.n;
    try {
      // At once through A and B: each answer is the bundle or 409, and the store holds exactly the bundles answered, each whole.
      const id = `exp-${randomUUID().slice(0, 8)}`;
      await attach(id);
      const caseId = `case-${id}`;
      const answers = await Promise.all([a!, b!].map((r) => call(r, 'POST', '/evidence/snapshot', { kind: 'export', resource_id: id, case_id: caseId })));
      const made = answers.filter((x) => x.status === 201);
      for (const x of answers.filter((y) => y.status !== 201)) expect(x).toMatchObject({ status: 409, json: { error_code: 'evidence.snapshot_in_progress' } });
      expect(made.length).toBeGreaterThanOrEqual(1);
      expect(await count('evidence_bundles', caseId)).toBe(made.length);
      expect(await count('evidence_commits', caseId)).toBe(0);
      const ring = (await call(c!, 'GET', '/evidence/keyring')).json;
      const keyring = Keyring.fromJSON({ version: ring.version, log: ring.log });
      for (const m of made) {
        const bundleId = m.json.bundle_id as string;
        const detail = await call(c!, 'GET', `/evidence/${bundleId}`);
        expect(detail.status).toBe(200);
        expect(detail.json.verification).toMatchObject({ ok: true, failures: [] });
        const archive = await c!.fetch(`/evidence/${bundleId}/archive`, { headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' } });
        expect(archive.status).toBe(200);
        const verified = await verifyBundleStream(Readable.from([Buffer.from(await archive.arrayBuffer())]), { keyring });
        expect(verified.failures).toEqual([]);
      }

      // While a bundle of the case is being made elsewhere (its case held), every replica refuses another with 409;
      // when the holder's connection dies (as with a replica killed mid-commit), the case is free again.
      const held = `exp-${randomUUID().slice(0, 8)}`;
      await attach(held);
      const heldCase = `case-${held}`;
      const holder = new pg.Client({ connectionString: cluster.database.appUrl });
      holder.on('error', () => undefined);
      await holder.connect();
      const { rows } = await holder.query<{ held: boolean; pid: number }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS held, pg_backend_pid() AS pid', [CASE_LOCK_CLASS, `acme/${heldCase}`]);
      expect(rows[0]!.held).toBe(true);
      for (const r of cluster.replicas) {
        const refused = await call(r, 'POST', '/evidence/snapshot', { kind: 'export', resource_id: held, case_id: heldCase });
        expect(refused).toMatchObject({ status: 409, json: { error_code: 'evidence.snapshot_in_progress', field: 'body.case_id' } });
      }
      expect(await count('evidence_bundles', heldCase)).toBe(0);
      await owner.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await holder.end().catch(() => undefined);
      const { value: taken } = await within(5000, 'the case free again', async () => {
        const res = await call(b!, 'POST', '/evidence/snapshot', { kind: 'export', resource_id: held, case_id: heldCase });
        return res.status === 409 ? undefined : res;
      });
      expect(taken.status, JSON.stringify(taken.json)).toBe(201);
      expect(await count('evidence_bundles', heldCase)).toBe(1);
    } finally {
      await owner.end();
    }
  });

  it('hands the periodic jobs to another replica within seconds when the leader is killed with SIGKILL under load', { timeout: 120_000 }, async () => {
    const flags = await Promise.all(cluster.replicas.map(async (r) => (await readiness(r)).leader));
    const leader = cluster.replicas[flags.indexOf(true)]!;
    const survivors = others(leader);

    // Load: timeline events through the survivors while the leader dies.
    let loading = true;
    let sent = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (loading) {
        const batch = survivors.map((r) =>
          call(r, 'POST', '/timeline/events', { events: [{ kind: 'job.completed', resource_type: 'job', resource_id: `load-${sent}` }] }).then((x) => {
            sent++;
            if (x.status !== 202) failures.push(`${r.id}: ${x.status}`);
          }),
        );
        await Promise.all(batch);
      }
    })();

    // An incident whose TTL ends right after the kill: only a leader's TTL job ends it.
    const shortLived = await call(survivors[0]!, 'POST', '/telemetry/incidents/mode', { state: 'on', ttl: '2s', reason: 'handover test', service: 'handover' });
    expect(shortLived.status).toBe(200);
    const incidentId = shortLived.json.incident.incident_id as string;

    const killedAt = performance.now();
    await leader.kill('SIGKILL');
    const { value: next, ms: handover } = await within(10_000, 'a new leader', async () => {
      for (const r of survivors) if ((await readiness(r)).leader) return r;
      return undefined;
    });
    measured['leader_handover_after_sigkill'] = Math.round(handover);
    expect(handover).toBeLessThan(6000);
    expect((await Promise.all(survivors.map(async (r) => (await readiness(r)).leader))).filter(Boolean)).toHaveLength(1);
    expect(await (await next.fetch('/metrics')).text()).toMatch(/^stella_leader\{lock="periodic_jobs"\} 1$/m);

    // The new leader's TTL job ends the incident.
    const { ms: expiredAfter } = await within(10_000, "the new leader's TTL job to end the incident", async () => {
      const res = await call(next, 'GET', '/telemetry/incidents/mode');
      const incident = res.json.incidents?.find((i: { incident_id: string }) => i.incident_id === incidentId);
      return incident?.end_reason === 'ttl' ? true : undefined;
    });
    measured['ttl_job_effect_after_handover'] = Math.round(expiredAfter + handover);
    loading = false;
    await load;
    expect(sent).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(performance.now() - killedAt).toBeLessThan(20_000);

    // The killed replica comes back as a follower.
    await leader.restart();
    await within(10_000, 'the restarted replica to report', async () => ((await readiness(leader)).leader === false ? true : undefined));
  });
});
