/**
 * SCALE-1, one leader for the periodic jobs: replicas on one PostgreSQL database elect one
 * leader through a session advisory lock; a leader that stops or whose session dies hands over
 * within a few polls; only the leader's timers run the jobs; `/readyz` and `stella_leader` say
 * who leads. Two services run in this process on one fresh database and one NATS stream.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createLogger } from '@stellaops/telemetry-core';
import { createService, resolveConfig, type StellaService } from '../../src/index.js';
import { EmbeddedLeadership, LEADER_LOCK_CLASS, PostgresLeadership, type Leadership } from '../../src/jobs/leadership.js';
import type { IncidentRuntime } from '../../src/incident/incident-feature.js';
import { createTestDatabase, eventually, NATS_URL, natsAvailable, PG_HOST, PG_PORT, postgresAvailable, type TestDatabase } from '../helpers/external.js';

const pgUp = await postgresAvailable();
const natsUp = pgUp ? await natsAvailable() : false;
const logger = createLogger({ service: 'leadership-test', level: 'fatal' });
const POLL_MS = 200;

/** Terminates the sessions holding the leader lock, as PostgreSQL does when a replica's connection dies. */
async function terminateLeaderSessions(db: TestDatabase): Promise<number> {
  const admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: db.name });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LEADER_LOCK_CLASS],
    );
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

const leaders = (all: readonly Leadership[]): number => all.filter((l) => l.isLeader).length;

describe('embedded leadership', () => {
  it('leads always: one process per data directory', async () => {
    const leadership = new EmbeddedLeadership();
    await leadership.start();
    expect(leadership.isLeader).toBe(true);
    expect(leadership.mode).toBe('embedded');
    await leadership.stop();
  });
});

describe.skipIf(!pgUp)('PostgreSQL leadership (advisory lock)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('elects exactly one leader, hands over when it stops or its session dies, and never two at once', async () => {
    const changes: string[] = [];
    const all = ['a', 'b', 'c'].map((name) => {
      const l = new PostgresLeadership({ url: db.appUrl, pollMs: POLL_MS, logger });
      l.onChange((leader) => changes.push(`${name}:${leader}`));
      return l;
    });
    // Never two leaders: sampled on every turn of the event loop while the test runs.
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, leaders(all))), 5);
    try {
      await Promise.all(all.map((l) => l.start()));
      await eventually(async () => (leaders(all) === 1 ? true : undefined), 5000, 'one leader');
      const first = all.find((l) => l.isLeader)!;

      // A graceful stop releases the lock: another replica leads at its next poll.
      let started = Date.now();
      await first.stop();
      await eventually(async () => (leaders(all) === 1 ? true : undefined), 5000, 'a second leader after a stop');
      const stopHandover = Date.now() - started;
      const second = all.find((l) => l.isLeader)!;
      expect(second).not.toBe(first);

      // The leader's session dies (as when its process is killed): it steps down, another leads.
      started = Date.now();
      expect(await terminateLeaderSessions(db)).toBe(1);
      await eventually(async () => (!second.isLeader ? true : undefined), 5000, 'the old leader to step down');
      await eventually(async () => (leaders(all) === 1 ? true : undefined), 5000, 'a leader after the session died');
      const deathHandover = Date.now() - started;
      expect(stopHandover).toBeLessThan(5 * POLL_MS + 1000);
      expect(deathHandover).toBeLessThan(5 * POLL_MS + 1000);
      expect(most).toBe(1);
      expect(changes.filter((c) => c.endsWith(':true')).length).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(watch);
      await Promise.all(all.map((l) => l.stop()));
    }
    expect(leaders(all)).toBe(0);
  });

  it('a replica that cannot reach the database does not lead (and start does not throw)', async () => {
    const unreachable = new PostgresLeadership({ url: `postgres://${db.appRole}@${PG_HOST}:1/${db.name}`, pollMs: POLL_MS, logger });
    await unreachable.start();
    expect(unreachable.isLeader).toBe(false);
    await unreachable.stop();
  });
});

describe.skipIf(!natsUp)('two services on one database: only the leader runs the jobs', () => {
  const run = randomBytes(4).toString('hex');
  let db: TestDatabase;
  const services: StellaService[] = [];
  const dirs: string[] = [];
  let offsetMs = 0;
  const clock = (): number => Date.now() + offsetMs;

  const start = async (): Promise<StellaService> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stella-leader-'));
    dirs.push(dataDir);
    const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'fatal'], {
      STELLA_DATABASE_URL: db.appUrl,
      STELLA_DATABASE_OWNER_URL: db.ownerUrl,
      STELLA_DATABASE_APP_ROLE: db.appRole,
      STELLA_DATABASE_POOL_SIZE: '4',
      STELLA_NATS_URL: NATS_URL,
      STELLA_NATS_STREAM: `STELLA_LEADER_${run}`,
      STELLA_SUBJECT_PREFIX: `stellaleader${run}`,
      STELLA_LEADER_POLL_MS: String(POLL_MS),
      STELLA_SEGMENT_SEAL_INTERVAL_MS: '1000',
      STELLA_SELF_TELEMETRY: 'false',
    });
    const service = await createService({ config, clock });
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of services) await s.close();
    const nc = await connect({ servers: NATS_URL });
    try {
      await (await jetstreamManager(nc)).streams.delete(`STELLA_LEADER_${run}`).catch(() => undefined);
    } finally {
      await nc.close();
    }
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const readiness = async (s: StellaService): Promise<{ leader: boolean; leadership: string }> => (await s.app.inject({ method: 'GET', url: '/readyz' })).json();
  const leaderGauge = async (s: StellaService): Promise<number | undefined> => {
    const text = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    const m = /^stella_leader\{lock="periodic_jobs"\} (\d)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('reports the leader, runs the TTL job only there, and hands the jobs over when the leader stops', async () => {
    const a = await start();
    const b = await start();
    const ab = [a, b];
    await eventually(async () => (ab.filter((s) => s.parts.leadership.isLeader).length === 1 ? true : undefined), 5000, 'one leader');
    const leader = ab.find((s) => s.parts.leadership.isLeader)!;
    const follower = ab.find((s) => s !== leader)!;
    expect(await readiness(leader)).toMatchObject({ leader: true, leadership: 'postgres-advisory-lock' });
    expect(await readiness(follower)).toMatchObject({ leader: false, leadership: 'postgres-advisory-lock' });
    expect(await leaderGauge(leader)).toBe(1);
    expect(await leaderGauge(follower)).toBe(0);

    // Only the leader's timer expires incident modes.
    const expireOnLeader = vi.spyOn(leader.parts.incidents, 'expire');
    const expireOnFollower = vi.spyOn(follower.parts.incidents, 'expire');
    await eventually(async () => (expireOnLeader.mock.calls.length >= 3 ? true : undefined), 10_000, 'three TTL passes on the leader');
    expect(expireOnFollower).not.toHaveBeenCalled();

    // An incident switched on through the follower is ended by the leader's job at its TTL.
    const token = await follower.devAuthority!.mint({ tenant: 'acme', scopes: ['stella:incident:admin'] });
    const on = await follower.app.inject({ method: 'POST', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' }, payload: { state: 'on', ttl: '5m', reason: 'leader test' } });
    expect(on.statusCode, on.body).toBe(200);
    offsetMs += 10 * 60_000;
    const ended = await eventually(
      async () => {
        const [incident] = await follower.parts.incidents.history('acme', 1);
        return incident?.end_reason === 'ttl' ? incident : undefined;
      },
      10_000,
      'the incident ended by the TTL job',
    );
    expect(ended.ended_by).toBe('system:ttl');

    // The leader stops: the follower leads within a few polls and runs the jobs at once.
    const expireOnNext = vi.spyOn(follower.parts.incidents, 'expire');
    const ttlOfNext = (follower.features.get('incident') as IncidentRuntime).ttl;
    const stopped = Date.now();
    await leader.close();
    await eventually(async () => (follower.parts.leadership.isLeader ? true : undefined), 5000, 'the follower to lead');
    const handoverMs = Date.now() - stopped;
    expect(handoverMs).toBeLessThan(5 * POLL_MS + 1000);
    expect(ttlOfNext.active).toBe(true);
    await eventually(async () => (expireOnNext.mock.calls.length >= 1 ? true : undefined), 5000, 'a TTL pass on the new leader');
    expect(await readiness(follower)).toMatchObject({ leader: true });
    expect(await leaderGauge(follower)).toBe(1);

    // runOnce works on any replica, leader or not.
    await expect(ttlOfNext.runOnce()).resolves.toEqual([]);
  });
});
