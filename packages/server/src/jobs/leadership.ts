/**
 * One leader per cluster for the periodic jobs (SCALE-1). On PostgreSQL the leader is the
 * replica holding a session advisory lock on a connection of its own, outside the query pool:
 * every `pollMs` a follower tries `pg_try_advisory_lock`, and the leader checks that its session
 * still holds the lock. PostgreSQL releases a session lock when the session's connection
 * closes, so when a leader dies (even by SIGKILL) another replica leads within a poll or two of
 * the server noticing. A leader whose connection fails or whose check fails or times out steps
 * down at once and closes the connection, so it can never keep leading beside a new leader.
 *
 * On the embedded store (one process per data directory) the replica always leads.
 *
 * Nothing here throws into a timer: connection and query failures are logged, and the poll
 * tries again.
 */
import type { Logger, TelemetryHandle } from '@stellaops/telemetry-core';
import pg from 'pg';

export type LeadershipListener = (leader: boolean) => void;

export interface Leadership {
  /** True while this replica runs the cluster's periodic jobs. */
  readonly isLeader: boolean;
  /** How leadership is held: `embedded` (always the leader) or `postgres-advisory-lock`. */
  readonly mode: 'embedded' | 'postgres-advisory-lock';
  /** Hears each change of `isLeader`; returns a function that stops listening. */
  onChange(listener: LeadershipListener): () => void;
  /** Starts taking part; resolves after the first attempt (leader or not). */
  start(): Promise<void>;
  /** Stops taking part; a leader releases the lock so another replica leads at its next poll. */
  stop(): Promise<void>;
}

/** The two-key advisory lock (class, object) of the periodic jobs; the migrations' one-key lock is another lock. */
export const LEADER_LOCK_CLASS = 0x5354_454c; // "STEL"
export const LEADER_LOCK_OBJECT = 1;

/** A lone process: the embedded store admits one process per data directory, which therefore leads. */
export class EmbeddedLeadership implements Leadership {
  readonly mode = 'embedded' as const;
  readonly isLeader = true;
  onChange(): () => void {
    return () => undefined;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export interface PostgresLeadershipOptions {
  /** Connection URL (the service's own, as the application role: advisory locks need no privilege). */
  url: string;
  /** How often a follower tries the lock and a leader checks its session. Default 2000. */
  pollMs?: number;
  logger: Logger;
}

export class PostgresLeadership implements Leadership {
  readonly mode = 'postgres-advisory-lock' as const;
  private leader = false;
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  /** Set while the database does not answer, so the outage is logged once, not every poll. */
  private failing = false;
  private readonly listeners = new Set<LeadershipListener>();
  private readonly pollMs: number;

  constructor(private readonly options: PostgresLeadershipOptions) {
    this.pollMs = options.pollMs ?? 2000;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    await this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
    const client = this.client;
    this.client = undefined;
    if (client && this.leader) {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LEADER_LOCK_CLASS, LEADER_LOCK_OBJECT]).catch(() => undefined);
    }
    this.setLeader(false, 'stopped');
    await client?.end().catch(() => undefined);
  }

  /** One attempt or check; never overlaps another; never rejects. */
  private poll(): Promise<void> {
    this.polling ??= this.attempt()
      .catch((error: unknown) => this.lost(error))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const client = this.client ?? (await this.connect());
    this.failing = false;
    if (this.leader) {
      // The lock is the session's: held while this very session lives and holds it.
      const { rows } = await client.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
            AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2) AS held`,
        [LEADER_LOCK_CLASS, LEADER_LOCK_OBJECT],
      );
      if (!rows[0]?.held) this.lost(new Error('the session no longer holds the leader lock'));
      return;
    }
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LEADER_LOCK_CLASS, LEADER_LOCK_OBJECT]);
    if (this.stopped) {
      // Stopped while asking: whatever was taken goes with the connection.
      return;
    }
    if (rows[0]?.locked) this.setLeader(true, 'took the leader lock');
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: 'stella-leadership',
      connectionTimeoutMillis: Math.max(1000, this.pollMs),
      // A check that does not answer in time counts as a lost connection.
      query_timeout: Math.max(1000, 2 * this.pollMs),
      keepAlive: true,
    });
    // A connection error or end steps down now, not at the next poll.
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client, new Error('the leadership connection ended')));
    try {
      await client.connect();
    } catch (error) {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      throw new Error('leadership stopped');
    }
    this.client = client;
    return client;
  }

  private dropped(client: pg.Client, error: unknown): void {
    if (client !== this.client) return;
    this.lost(error);
  }

  /** Steps down and closes the session (which releases any lock it held); the next poll reconnects. */
  private lost(error: unknown): void {
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
    }
    if (this.stopped) return;
    if (this.leader) this.setLeader(false, 'lost the leader lock', error);
    else if (!this.failing) this.options.logger.warn({ err: error, error_code: 'store.unavailable' }, 'leadership: the database does not answer; trying again every poll');
    this.failing = true;
  }

  private setLeader(leader: boolean, why: string, error?: unknown): void {
    if (this.leader === leader) return;
    this.leader = leader;
    const line = { details: { leader, reason: why }, ...(error === undefined ? {} : { err: error }) };
    if (leader || !error) this.options.logger.info(line, leader ? 'this replica now leads the periodic jobs' : 'this replica no longer leads the periodic jobs');
    else this.options.logger.warn(line, 'this replica no longer leads the periodic jobs');
    for (const listener of this.listeners) {
      try {
        listener(leader);
      } catch (listenerError) {
        this.options.logger.error({ err: listenerError }, 'leadership listener failed');
      }
    }
  }
}

/** The service's leadership: PostgreSQL's advisory lock with a database URL, else the embedded one. */
export function openLeadership(options: { databaseUrl: string | undefined; pollMs: number; logger: Logger }): Leadership {
  return options.databaseUrl ? new PostgresLeadership({ url: options.databaseUrl, pollMs: options.pollMs, logger: options.logger }) : new EmbeddedLeadership();
}

/** `stella_leader{lock="periodic_jobs"}` on `/metrics`: 1 while this replica leads the periodic jobs, else 0. */
export function reportLeadership(handle: Pick<TelemetryHandle, 'meterProvider'>, leadership: Leadership): void {
  handle.meterProvider
    .getMeter('stella-observability')
    .createObservableGauge('stella_leader', { description: 'Whether this replica leads the periodic jobs of the cluster (1) or not (0).' })
    .addCallback((result) => result.observe(leadership.isLeader ? 1 : 0, { lock: 'periodic_jobs' }));
}
