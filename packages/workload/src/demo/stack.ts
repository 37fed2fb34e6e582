/**
 * The running system of the demo: the Observability & Forensics service (started exactly as
 * `npm start` starts it, on embedded defaults unless STELLA_DATABASE_URL / STELLA_NATS_URL are
 * set) and the seven workload services, each its own process with its own telemetry.
 *
 * Demo settings of the service (a caller's `serviceEnv` wins): it evaluates the journey SLOs
 * (deploy/slo/journeys.yaml) every 2 s rather than every minute, so a burn shows within
 * seconds. The workload pushes its traces, logs and metrics to the service's OTLP receiver
 * (metrics every 2 s, and at once on `flush()`), so the SLOs are read from the service's own
 * metrics store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { DevAuthority } from '@stellaops/server';
import { FIXTURES_DIR } from '../fixtures/generate.js';
import { SERVICE_NAMES, type WorkloadConfig, type WorkloadServiceName } from '../services/workload-config.js';
import { eventually, freePort, nextMessage, REPO_ROOT, startProcess, type ManagedProcess } from './processes.js';

/**
 * SLO evaluation interval of the demo's service, and the workload's metric push interval (the
 * demo also pushes on demand, with `flush()`, before it reads what the service made of them).
 */
export const DEMO_SLO_INTERVAL_MS = 2000;
export const DEMO_METRICS_INTERVAL_MS = 2000;
/**
 * How long the service and each workload process may take to start (load their code, open the
 * store, report ready). Generous, because a busy machine loads TypeScript slowly; a process that
 * exits meanwhile fails the wait at once. `STELLA_DEMO_START_TIMEOUT_MS` changes it.
 */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env['STELLA_DEMO_START_TIMEOUT_MS']);
  return Number.isInteger(set) && set > 0 ? set : 180_000;
}

/** Which APIs this build of the service offers, read from its OpenAPI document. */
export interface ServiceFeatures {
  evidence: boolean;
  attestations: boolean;
  custody: boolean;
  obs: boolean;
  incident: boolean;
  capture: boolean;
  otlp: boolean;
  /** `GET /obs/metrics`: the metrics the service received, queryable. */
  metrics: boolean;
  /** `GET /obs/slo`: the service evaluates SLOs. */
  slo: boolean;
  /** `GET /telemetry/deep-debug`: per-tenant deep-debug grants the services follow. */
  deepDebug: boolean;
  /** `GET /dora/metrics`: DORA delivery metrics of recorded deployments and incidents. */
  dora: boolean;
}

export interface StackOptions {
  dataDir: string;
  /** Extra environment for the service (database, NATS, stream names). */
  serviceEnv?: NodeJS.ProcessEnv;
  /** Tenants the workload serves. */
  tenants: string[];
  /** Head sampling ratio of the workload services. Default 0.1. */
  samplingRatio?: number;
}

export interface Stack {
  dataDir: string;
  logDir: string;
  stellaUrl: string;
  otlpUrl: string;
  features: ServiceFeatures;
  /** How often the service evaluates the SLOs (STELLA_SLO_EVALUATION_INTERVAL_MS), in ms. */
  sloIntervalMs: number;
  peers: Record<WorkloadServiceName, string>;
  authority: DevAuthority;
  /** A token for one tenant with short scopes (`timeline:read`, ...). */
  token(tenant: string, scopes: readonly string[], subject?: string): Promise<string>;
  /** Asks every workload service to export what it buffered; resolves with their timeline failure counts. */
  flush(): Promise<Record<string, number>>;
  processes: ManagedProcess[];
  /** Processes that ended on their own (not stopped by us), with how. */
  crashed(): string[];
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function detectFeatures(stellaUrl: string, otlpPort: number): Promise<ServiceFeatures> {
  const doc = (await (await fetch(`${stellaUrl}/openapi.json`)).json()) as { paths?: Record<string, unknown> };
  const paths = Object.keys(doc.paths ?? {});
  const has = (prefix: string): boolean => paths.some((p) => p === prefix || p.startsWith(`${prefix}/`) || p.startsWith(prefix));
  return {
    evidence: has('/evidence/snapshot'),
    attestations: has('/attestations'),
    custody: has('/custody/'),
    obs: has('/obs/trace/'),
    incident: has('/telemetry/incidents/mode'),
    capture: has('/telemetry/exports/forensic/'),
    otlp: await listening(otlpPort),
    metrics: has('/obs/metrics'),
    slo: has('/obs/slo'),
    deepDebug: has('/telemetry/deep-debug'),
    dora: has('/dora/metrics'),
  };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { dataDir } = options;
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const crashes: string[] = [];
  let stopping = false;
  const watch = (p: ManagedProcess): void => {
    p.child.once('exit', (code, signal) => {
      if (!stopping) crashes.push(`${p.name} exited (${signal ? `signal ${signal}` : `code ${code}`}); see ${p.logFile} and the .stderr beside it`);
    });
  };
  const stopAll = async (): Promise<void> => {
    stopping = true;
    // Workload first (it reports to the service), then the service.
    await Promise.all(processes.filter((p) => p.name !== 'stella-observability').map((p) => p.stop()));
    await Promise.all(processes.filter((p) => p.name === 'stella-observability').map((p) => p.stop()));
  };
  try {
    const [port, otlpHttp, otlpGrpc] = await Promise.all([freePort(), freePort(), freePort()]);
    const serviceEnv: NodeJS.ProcessEnv = {
      STELLA_ENV: 'demo',
      STELLA_SLO_DIR: join(REPO_ROOT, 'deploy', 'slo', 'journeys.yaml'),
      STELLA_SLO_EVALUATION_INTERVAL_MS: String(DEMO_SLO_INTERVAL_MS),
      ...options.serviceEnv,
    };
    const service = startProcess('stella-observability', 'packages/server/src/main.ts', {
      args: ['--data-dir', join(dataDir, 'service'), '--host', '127.0.0.1', '--port', String(port), '--otlp-http-port', String(otlpHttp), '--otlp-grpc-port', String(otlpGrpc)],
      env: serviceEnv,
      logDir,
    });
    processes.push(service);
    watch(service);
    // The workload's processes load their code while the service starts; they get their configuration below.
    const workload = SERVICE_NAMES.map((name) => {
      const p = startProcess(name, 'packages/workload/src/services/main.ts', { logDir, ipc: true });
      processes.push(p);
      watch(p);
      return p;
    });
    const startTimeout = startTimeoutMs();
    const waiting = Promise.all(workload.map((p) => nextMessage(p, 'waiting', startTimeout)));
    waiting.catch(() => undefined);
    const stellaUrl = `http://127.0.0.1:${port}`;
    await eventually(
      'the service to become ready (GET /readyz)',
      async () => {
        if (service.child.exitCode !== null) throw new Error(`the service exited with code ${service.child.exitCode}; see ${logDir}/stella-observability.stderr`);
        const r = await fetch(`${stellaUrl}/readyz`).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      startTimeout,
      200,
    );
    const features = await detectFeatures(stellaUrl, otlpHttp);
    const authority = await DevAuthority.open(join(dataDir, 'service'));
    const token = (tenant: string, scopes: readonly string[], subject = `user:${tenant}-analyst`): Promise<string> =>
      authority.mint({ tenant, scopes, subject, ttlSeconds: 4 * 3600 });

    const ports = await Promise.all(SERVICE_NAMES.map(() => freePort()));
    const peers = Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, `http://127.0.0.1:${ports[i]}`])) as Record<WorkloadServiceName, string>;
    // Service accounts: platform-wide scopes, the tenant chosen per request with X-Stella-Tenant.
    const serviceScopes = ['stella:timeline:write', ...(features.otlp ? ['stella:telemetry:write'] : []), ...(features.attestations ? ['stella:attest:create'] : []), ...(features.evidence ? ['stella:evidence:create', 'stella:evidence:read'] : []), ...(features.attestations ? ['stella:attest:read'] : []), ...(features.incident || features.obs ? ['stella:obs:read'] : [])];
    const telemetryDir = join(dataDir, 'telemetry');
    await waiting;
    await Promise.all(
      SERVICE_NAMES.map(async (name, i) => {
        const serviceToken = await authority.mint({ scopes: serviceScopes, subject: `svc:${name}`, ttlSeconds: 4 * 3600 });
        const config: WorkloadConfig = {
          service: name,
          tenants: options.tenants,
          peers,
          stellaUrl,
          serviceToken,
          fixturesDir: FIXTURES_DIR,
          env: 'demo',
          telemetry: {
            ratio: options.samplingRatio ?? 0.1,
            metricsIntervalMs: DEMO_METRICS_INTERVAL_MS,
            ...(features.otlp ? { otlpEndpoint: `http://127.0.0.1:${otlpHttp}` } : { fileDir: telemetryDir }),
            ...(features.incident ? { incidentModeUrl: stellaUrl } : {}),
            ...(features.deepDebug ? { deepDebugUrl: stellaUrl } : {}),
          },
          features: { evidence: features.evidence, attestations: features.attestations },
        };
        const p = workload[i]!;
        const ready = nextMessage(p, 'ready', startTimeout);
        p.child.send({ type: 'configure', config });
        await ready;
      }),
    );
    let flushId = 0;
    return {
      dataDir,
      logDir,
      stellaUrl,
      otlpUrl: `http://127.0.0.1:${otlpHttp}`,
      features,
      sloIntervalMs: Number(serviceEnv['STELLA_SLO_EVALUATION_INTERVAL_MS']) || 60_000,
      peers,
      authority,
      token,
      processes,
      crashed: () => [...crashes],
      async flush() {
        const id = ++flushId;
        const answers = await Promise.all(
          workload.map(async (p) => {
            const reply = nextMessage<{ type: string; id: number; timelineFailures: number }>(p, 'flushed', 15_000, (m) => m.id === id);
            p.child.send({ type: 'flush', id });
            return [p.name, (await reply).timelineFailures] as const;
          }),
        );
        return Object.fromEntries(answers);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
