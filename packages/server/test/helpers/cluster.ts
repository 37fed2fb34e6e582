/**
 * Several replicas of the service as one cluster, each a child process (service-process.ts) on
 * its own data directory and ports, all sharing what a scaled-out installation shares:
 *
 * - one fresh PostgreSQL database and application role, dropped by `close()`;
 * - one NATS JetStream stream and subject prefix, unique per cluster, deleted by `close()`;
 * - one object store directory (`STELLA_EVIDENCE_DIR`) and key directory (`STELLA_EVIDENCE_KEYS_DIR`);
 * - one telemetry segments directory (`STELLA_SEGMENTS_DIR`), each replica named by `STELLA_REPLICA_ID`;
 * - one token authority: a development key made here, its JWKS file given to every replica
 *   (`STELLA_AUTH_JWKS_FILE`), so one minted token works on each of them.
 *
 * `clusterAvailable()` checks PostgreSQL and NATS first: with CI=true an unreachable one fails
 * the suite, elsewhere the suite is skipped with a message. Replicas can be killed (SIGKILL
 * included) and restarted on the same data directory; `client` sends each request to the next
 * running replica in turn.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DEV_AUTHORITY_ISSUER, DevAuthority, type MintOptions } from '../../src/auth/dev-authority.js';
import { createTestDatabase, NATS_URL, natsAvailable, postgresAvailable, type TestDatabase } from './external.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** True when PostgreSQL and NATS answer; throws under CI=true when either does not. */
export async function clusterAvailable(): Promise<boolean> {
  return (await postgresAvailable()) && (await natsAvailable());
}

export interface ClusterOptions {
  /** Number of replicas. Default 3. */
  replicas?: number;
  /** Environment for every replica (after the cluster's own, so it can override them). */
  env?: Record<string, string | undefined>;
  /** Flags for every replica. */
  args?: string[];
}

export interface Replica {
  /** 0-based position in `cluster.replicas`. */
  readonly index: number;
  /** `STELLA_REPLICA_ID`: `replica-a`, `replica-b`, … */
  readonly id: string;
  readonly dataDir: string;
  /** The running process; throws when the replica is down. */
  readonly process: ServiceProcess;
  readonly running: boolean;
  readonly apiUrl: string;
  readonly otlpHttpUrl: string;
  /** `fetch` against this replica's API (`path` starts with `/`). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Sends `signal` (default SIGKILL) and waits until the process ended. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** Starts it again on the same data directory (new ports). */
  restart(): Promise<void>;
  /** Everything it wrote, over all its runs (tails). */
  output(): string;
}

/** Cycles through the running replicas: each call goes to the next one. */
export interface RoundRobinClient {
  /** The replica the next request goes to (skipping stopped ones). */
  next(): Replica;
  /** `fetch` of an API path on the next running replica. */
  fetch(path: string, init?: RequestInit): Promise<Response & { replica: Replica }>;
  /** POSTs an OTLP/HTTP protobuf body (`/v1/<signal>`) to the next running replica. */
  otlp(signal: 'traces' | 'logs' | 'metrics', body: Uint8Array, token: string): Promise<Response & { replica: Replica }>;
}

export interface Cluster {
  replicas: Replica[];
  database: TestDatabase;
  natsStream: string;
  subjectPrefix: string;
  /** Directory shared by every replica (segments, object store, keys, authority). */
  sharedDir: string;
  segmentsDir: string;
  /** A token of the shared authority, accepted by every replica. */
  token(tenant: string, scopes: readonly string[], options?: Omit<MintOptions, 'tenant' | 'scopes'>): Promise<string>;
  client: RoundRobinClient;
  /** Stops every replica, drops the database, deletes the stream, removes the directories. */
  close(): Promise<void>;
}

/** Starts `replicas` replicas together (they race through migrations and stream creation, as in production). */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.replicas ?? 3;
  const run = randomBytes(4).toString('hex');
  const root = mkdtempSync(join(tmpdir(), 'stella-cluster-'));
  const sharedDir = join(root, 'shared');
  const segmentsDir = join(sharedDir, 'segments');
  mkdirSync(segmentsDir, { recursive: true });
  const authority = await DevAuthority.open(join(sharedDir, 'authority-home'));
  const jwksFile = join(sharedDir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(authority.jwks));
  const natsStream = `STELLA_CLUSTER_${run}`;
  const subjectPrefix = `stellacluster${run}`;
  let database: TestDatabase | undefined;
  const replicas: ReplicaImpl[] = [];

  const cleanup = async (): Promise<void> => {
    const errors: unknown[] = [];
    await Promise.all(replicas.map((r) => r.stop().catch((e: unknown) => errors.push(e))));
    await deleteStream(natsStream).catch((e: unknown) => errors.push(e));
    await database?.drop().catch((e: unknown) => errors.push(e));
    rmSync(root, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'cleaning up the cluster failed');
  };

  try {
    database = await createTestDatabase();
    const env: Record<string, string | undefined> = {
      STELLA_DATABASE_URL: database.appUrl,
      STELLA_DATABASE_OWNER_URL: database.ownerUrl,
      STELLA_DATABASE_APP_ROLE: database.appRole,
      STELLA_DATABASE_POOL_SIZE: '4',
      STELLA_NATS_URL: NATS_URL,
      STELLA_NATS_STREAM: natsStream,
      STELLA_SUBJECT_PREFIX: subjectPrefix,
      STELLA_AUTH_JWKS_FILE: jwksFile,
      STELLA_AUTH_ISSUER: DEV_AUTHORITY_ISSUER,
      STELLA_EVIDENCE_DIR: join(sharedDir, 'evidence'),
      STELLA_EVIDENCE_KEYS_DIR: join(sharedDir, 'keys'),
      STELLA_SEGMENTS_DIR: segmentsDir,
      STELLA_OTLP_TENANT_RECORDS_PER_SEC: '1000000',
      STELLA_OTLP_PREPARE_WORKERS: '0',
      ...options.env,
    };
    for (let i = 0; i < count; i++) {
      const dataDir = join(root, `replica-${i}`);
      mkdirSync(dataDir);
      replicas.push(new ReplicaImpl(i, `replica-${String.fromCharCode(97 + i)}`, dataDir, env, options.args ?? []));
    }
    await Promise.all(replicas.map((r) => r.restart()));
  } catch (error) {
    const outputs = replicas.map((r) => `=== ${r.id} ===\n${r.output()}`).join('\n');
    await cleanup().catch(() => undefined);
    throw new Error(`the cluster did not start: ${(error as Error).message}\n${outputs}`, { cause: error });
  }

  let turn = 0;
  const next = (): Replica => {
    for (let tried = 0; tried < replicas.length; tried++) {
      const r = replicas[turn++ % replicas.length]!;
      if (r.running) return r;
    }
    throw new Error('no replica of the cluster is running');
  };
  const tagged = async (replica: Replica, res: Promise<Response>): Promise<Response & { replica: Replica }> => Object.assign(await res, { replica });
  const client: RoundRobinClient = {
    next,
    fetch: (path, init) => {
      const r = next();
      return tagged(r, r.fetch(path, init));
    },
    otlp: (signal, body, token) => {
      const r = next();
      return tagged(r, fetch(`${r.otlpHttpUrl}/v1/${signal}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' } }));
    },
  };

  return {
    replicas,
    database: database,
    natsStream,
    subjectPrefix,
    sharedDir,
    segmentsDir,
    token: (tenant, scopes, mint = {}) => authority.mint({ ...mint, tenant, scopes }),
    client,
    close: cleanup,
  };
}

class ReplicaImpl implements Replica {
  private current: ServiceProcess | undefined;
  private readonly outputs: string[] = [];

  constructor(
    readonly index: number,
    readonly id: string,
    readonly dataDir: string,
    private readonly env: Record<string, string | undefined>,
    private readonly args: string[],
  ) {}

  get process(): ServiceProcess {
    if (!this.current?.running) throw new Error(`replica ${this.id} is not running`);
    return this.current;
  }

  get running(): boolean {
    return this.current?.running ?? false;
  }

  get apiUrl(): string {
    return this.process.apiUrl;
  }

  get otlpHttpUrl(): string {
    return this.process.otlpHttpUrl;
  }

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.apiUrl}${path}`, init);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.current?.kill(signal);
  }

  async stop(): Promise<void> {
    await this.current?.stop();
  }

  async restart(): Promise<void> {
    if (this.current?.running) throw new Error(`replica ${this.id} is still running; kill or stop it first`);
    if (this.current) this.outputs.push(this.current.output());
    this.current = undefined;
    this.current = await startServiceProcess({
      args: ['--data-dir', this.dataDir, ...this.args],
      env: { ...this.env, STELLA_REPLICA_ID: this.env['STELLA_REPLICA_ID'] ?? this.id },
    }).catch((error: unknown) => {
      this.outputs.push((error as Error).message);
      throw error;
    });
  }

  output(): string {
    return [...this.outputs, this.current?.output() ?? ''].join('\n=== restarted ===\n');
  }
}

async function deleteStream(stream: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch((error: unknown) => {
      if (!/not found/i.test((error as Error).message)) throw error;
    });
  } finally {
    await nc.close();
  }
}
