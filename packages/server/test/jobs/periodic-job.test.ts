/**
 * The periodic jobs' schedule under leadership: a job's timer runs passes only while its replica
 * leads, a replica that becomes the leader runs a pass at once, one that stops leading starts no
 * further pass, a job of the replica's own runs everywhere, `runOnce` runs wherever it is called,
 * and a failing pass is logged, never thrown into the timer.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '@stellaops/telemetry-core';
import type { Leadership, LeadershipListener } from '../../src/jobs/leadership.js';
import { PeriodicJob } from '../../src/jobs/periodic-job.js';
import { eventually } from '../helpers/external.js';

/** Leadership switched by the test. */
class SwitchedLeadership implements Leadership {
  readonly mode = 'postgres-advisory-lock' as const;
  isLeader = false;
  private readonly listeners = new Set<LeadershipListener>();
  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(leader: boolean): void {
    this.isLeader = leader;
    for (const l of this.listeners) l(leader);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

class CountingJob extends PeriodicJob<number> {
  passes = 0;
  constructor(leadership: Leadership, options: { scope?: 'cluster' | 'replica'; fail?: boolean; logger?: Logger; intervalMs?: number } = {}) {
    super({ name: 'counting', intervalMs: options.intervalMs ?? 20, logger: options.logger ?? createLogger({ service: 'job-test', level: 'fatal' }), leadership, ...(options.scope ? { scope: options.scope } : {}) });
    this.fail = options.fail ?? false;
  }
  private readonly fail: boolean;
  protected async pass(): Promise<number> {
    this.passes++;
    if (this.fail) throw new Error('the pass failed');
    return this.passes;
  }
}

const jobs: CountingJob[] = [];
afterEach(async () => {
  for (const j of jobs.splice(0)) await j.stop();
});
const make = (...args: ConstructorParameters<typeof CountingJob>): CountingJob => {
  const job = new CountingJob(...args);
  jobs.push(job);
  return job;
};

describe('PeriodicJob under leadership', () => {
  it('runs on the leader only, at once when it becomes the leader, and no more once it stops leading', async () => {
    const leadership = new SwitchedLeadership();
    const job = make(leadership);
    // A job of the replica's own, on the same leadership and interval, is the witness that the timers run.
    const witness = make(leadership, { scope: 'replica' });
    job.start();
    witness.start();
    await eventually(async () => (witness.passes >= 5 ? true : undefined), 5000, 'five timer turns');
    expect(job.passes).toBe(0);
    expect(job.active).toBe(false);
    expect(witness.active).toBe(true);

    // A long interval shows the pass on becoming the leader is the handover's, not the timer's.
    const slow = make(leadership, { intervalMs: 3_600_000 });
    slow.start();
    leadership.set(true);
    expect(slow.passes).toBe(1);
    await eventually(async () => (job.passes >= 3 ? true : undefined), 5000, 'passes on the leader');

    leadership.set(false);
    const after = job.passes;
    const turns = witness.passes;
    await eventually(async () => (witness.passes >= turns + 5 ? true : undefined), 5000, 'five more timer turns');
    expect(job.passes).toBe(after);
  });

  it('runs runOnce wherever it is called, and keeps failures out of the timer', async () => {
    const leadership = new SwitchedLeadership();
    const lines: string[] = [];
    // The lines go to the test, not to its output.
    const logger = createLogger({ service: 'job-test', level: 'error', destination: new Writable({ write: (_chunk, _encoding, done) => done() }), sinks: [{ minLevel: 50, write: (line: string) => void lines.push(line) }] });
    const failing = make(leadership, { fail: true, logger });
    await expect(failing.runOnce()).rejects.toThrow('the pass failed');
    failing.start();
    leadership.set(true);
    await eventually(async () => (failing.passes >= 3 ? true : undefined), 5000, 'failing passes');
    expect(lines.some((l) => l.includes('counting run failed'))).toBe(true);
  });
});
