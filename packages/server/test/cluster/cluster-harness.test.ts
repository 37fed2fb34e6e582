/**
 * The cluster harness itself: three replicas on one PostgreSQL database, one NATS stream and one
 * token authority; a token minted once works on every replica, the round-robin client visits
 * each in turn, and a replica killed with SIGKILL comes back on its data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, startCluster, type Cluster } from '../helpers/cluster.js';

const up = await clusterAvailable();

describe.skipIf(!up)('cluster harness', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ replicas: 3 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('runs three replicas that accept one token and answer in turn', async () => {
    const token = await cluster.token('acme', ['timeline:read']);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await cluster.client.fetch('/auth/whoami', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, res.replica.output()).toBe(200);
      expect(((await res.json()) as { subject: string }).subject).toBe('dev-user');
      seen.push(res.replica.id);
    }
    expect(seen).toEqual(['replica-a', 'replica-b', 'replica-c', 'replica-a', 'replica-b', 'replica-c']);
    for (const r of cluster.replicas) expect((await r.fetch('/readyz')).status).toBe(200);
  });

  it('survives SIGKILL of a replica and restarts it on the same data directory', { timeout: 120_000 }, async () => {
    const victim = cluster.replicas[1]!;
    const pid = victim.process.pid;
    await victim.kill('SIGKILL');
    expect(victim.running).toBe(false);
    const token = await cluster.token('acme', ['timeline:read']);
    // The round-robin client skips the dead replica.
    for (let i = 0; i < 4; i++) {
      const res = await cluster.client.fetch('/auth/whoami', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.replica.id).not.toBe(victim.id);
    }
    await victim.restart();
    expect(victim.process.pid).not.toBe(pid);
    expect((await victim.fetch('/auth/whoami', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
