/**
 * The typed profile model: what a profile is, resolved from its name and the operator's
 * options. `collectorConfig` (collector-config.ts) turns it into the Collector's configuration;
 * nothing here knows YAML.
 */
import { posix } from 'node:path';
import { isIP } from 'node:net';
import {
  DEFAULT_TELEMETRY_POLICY_FILE,
  TelemetryPolicyError,
  egressEntryProblem,
  loadTelemetryPolicy,
  type TelemetryPolicy,
} from '@stellaops/telemetry-core/policy';
import { PINNED_DISTRIBUTION, type Distribution, type Signal } from './distribution.js';
import { parseEndpoint, isLoopbackHost } from './endpoints.js';
import { ProfileError } from './errors.js';
import {
  DEFAULT_BACKENDS,
  DEFAULT_DATA_ROOT,
  DEFAULT_TLS_DIR,
  FILE_RETENTION_DAYS,
  PROFILE_NAMES,
  SAMPLING_DEFAULTS,
  type BackendTarget,
  type ClientTlsOptions,
  type ProfileName,
  type ProfileOptions,
  type SamplingOptions,
} from './options.js';
import { redactionFromPolicy, type RedactionMapping } from './policy-redaction.js';

export interface ServerTls {
  certFile: string;
  keyFile: string;
  /** Undefined: client certificates are not asked for. */
  clientCaFile: string | undefined;
  minVersion: '1.2' | '1.3';
}

export interface ReceiverModel {
  grpcEndpoint: string;
  httpEndpoint: string;
  /** Undefined: plaintext (loopback only). */
  tls: ServerTls | undefined;
}

/** `plaintext`: no TLS (loopback endpoints only). */
export type ClientTls = ClientTlsOptions | 'plaintext';

export interface QueueModel {
  /** Batches waiting for the backend. */
  queueSize: number;
  /** Kept on disk through the `file_storage/queue` extension, so a restart loses nothing queued. */
  persistent: boolean;
}

export type ExporterModel =
  | { id: 'otlp/tempo'; backend: 'tempo'; signal: 'traces'; endpoint: string; tls: ClientTls; queue: QueueModel }
  | { id: 'prometheusremotewrite'; backend: 'prometheus'; signal: 'metrics'; endpoint: string; tls: ClientTls; queueSize: number }
  | { id: 'otlphttp/loki'; backend: 'loki'; signal: 'logs'; endpoint: string; tls: ClientTls; queue: QueueModel }
  | { id: `file/${Signal}`; backend: 'file'; signal: Signal; path: string; retentionDays: number; maxMegabytes: number };

export interface CollectorProfile {
  name: ProfileName;
  /** One line: what the profile is for. */
  description: string;
  distribution: Distribution;
  sealed: boolean;
  /** The telemetry policy as the Collector enforces it. */
  redaction: RedactionMapping;
  receiver: ReceiverModel;
  memoryLimiter: { checkInterval: string; limitPercentage: number; spikeLimitPercentage: number };
  batch: { sendBatchSize: number; sendBatchMaxSize: number; timeout: string };
  /** Local detectors only: cloud detectors call metadata endpoints, i.e. egress. */
  resourceDetection: { detectors: string[]; timeout: string };
  sampling: SamplingOptions;
  exporters: ExporterModel[];
  /** Directory of the persistent export queues; undefined when no exporter queues on disk. */
  queueDirectory: string | undefined;
  healthCheckEndpoint: string;
  /** Where the Collector serves its own metrics (Prometheus scrapes it). */
  selfMetrics: { host: string; port: number };
  /** Non-loopback endpoints exporters may use (not sealed): the options' and the policy's. */
  exporterAllowlist: string[];
}

const DESCRIPTIONS: Readonly<Record<ProfileName, string>> = {
  default: 'everyday operation: traces to Tempo, metrics to Prometheus, logs to Loki; tail sampling keeps errors (capped), slow traces and a baseline',
  forensic: 'high retention: every error trace kept, longer decision wait, more of the rest, and an on-disk archive of everything exported',
  airgap: 'sealed installations: every signal to local files only, for transfer under signed manifests',
};

function invalidOption(path: string, reason: string): ProfileError {
  return new ProfileError('profile.invalid_option', `option "${path}" ${reason}`, { path });
}

function port(value: number | undefined, fallback: number, path: string): number {
  const p = value ?? fallback;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalidOption(path, `must be an integer from 1 to 65535 (got ${JSON.stringify(p)})`);
  return p;
}

function absolutePath(value: string, path: string): string {
  if (typeof value !== 'string' || !posix.isAbsolute(value)) throw invalidOption(path, `must be an absolute path (got ${JSON.stringify(value)})`);
  return value;
}

function percent(value: number, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) throw invalidOption(path, `must be a number from 0 to 100 (got ${JSON.stringify(value)})`);
  return value;
}

function positiveInteger(value: number, path: string): number {
  if (!Number.isInteger(value) || value < 1) throw invalidOption(path, `must be a positive integer (got ${JSON.stringify(value)})`);
  return value;
}

function hostWithPort(host: string, p: number): string {
  return isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

/** Loads the policy the options name; a policy that cannot be used is `profile.policy_unusable`. */
export function resolvePolicy(options: Pick<ProfileOptions, 'policy' | 'policyFile'>): TelemetryPolicy {
  if (options.policy) return options.policy;
  const file = options.policyFile ?? DEFAULT_TELEMETRY_POLICY_FILE;
  try {
    return loadTelemetryPolicy(file);
  } catch (err) {
    if (err instanceof TelemetryPolicyError) throw new ProfileError('profile.policy_unusable', err.message, { cause: err });
    throw err;
  }
}

function resolveSampling(name: ProfileName, overrides: Partial<SamplingOptions> | undefined): SamplingOptions {
  const s: SamplingOptions = { ...SAMPLING_DEFAULTS[name], ...overrides, services: { ...(overrides?.services ?? SAMPLING_DEFAULTS[name].services) } };
  if (!/^[1-9]\d*(ms|s|m|h)$/.test(s.decisionWait)) throw invalidOption('sampling.decisionWait', `must be a duration such as 10s or 500ms (got ${JSON.stringify(s.decisionWait)})`);
  positiveInteger(s.numTraces, 'sampling.numTraces');
  positiveInteger(s.expectedNewTracesPerSec, 'sampling.expectedNewTracesPerSec');
  percent(s.errorsPercent, 'sampling.errorsPercent');
  if (s.errorsSpansPerSecond !== undefined) positiveInteger(s.errorsSpansPerSecond, 'sampling.errorsSpansPerSecond');
  positiveInteger(s.latencyThresholdMs, 'sampling.latencyThresholdMs');
  percent(s.baselinePercent, 'sampling.baselinePercent');
  for (const [service, p] of Object.entries(s.services)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(service)) throw invalidOption(`sampling.services.${service}`, 'must name a service (letters, digits, ".", "_", "-")');
    percent(p, `sampling.services.${service}`);
  }
  return s;
}

function resolveTarget(target: BackendTarget | undefined, fallback: string, path: string): { endpoint: string; tls: ClientTls } {
  const endpoint = target?.endpoint ?? fallback;
  const parsed = typeof endpoint === 'string' ? parseEndpoint(endpoint) : undefined;
  if (!parsed) throw invalidOption(`${path}.endpoint`, `must be host:port or a URL (got ${JSON.stringify(endpoint)})`);
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = target?.tls?.[key];
    if (file !== undefined) absolutePath(file, `${path}.tls.${key}`);
  }
  if (target?.tls) return { endpoint, tls: { ...target.tls } };
  // A loopback backend is reached in plaintext unless TLS is asked for; anything else uses TLS
  // with the system roots (plaintext beyond loopback fails validation).
  const plaintext = parsed.scheme === 'http:' || (parsed.scheme === undefined && isLoopbackHost(parsed.host));
  return { endpoint, tls: plaintext ? 'plaintext' : {} };
}

/** Builds the typed model of a profile. Throws `ProfileError` for an unknown name or a bad option. */
export function buildProfile(name: ProfileName, options: ProfileOptions = {}): CollectorProfile {
  if (!PROFILE_NAMES.includes(name)) {
    throw new ProfileError('profile.unknown', `unknown profile ${JSON.stringify(name)} (profiles: ${PROFILE_NAMES.join(', ')})`);
  }
  const policy = resolvePolicy(options);
  const sealed = options.sealed ?? name === 'airgap';

  let tls: ServerTls | undefined;
  if (options.tls !== false) {
    const t = options.tls ?? {};
    tls = {
      certFile: absolutePath(t.certFile ?? posix.join(DEFAULT_TLS_DIR, 'server.crt'), 'tls.certFile'),
      keyFile: absolutePath(t.keyFile ?? posix.join(DEFAULT_TLS_DIR, 'server.key'), 'tls.keyFile'),
      clientCaFile: t.clientCaFile === null ? undefined : absolutePath(t.clientCaFile ?? posix.join(DEFAULT_TLS_DIR, 'client-ca.crt'), 'tls.clientCaFile'),
      minVersion: t.minVersion ?? '1.2',
    };
    if (tls.minVersion !== '1.2' && tls.minVersion !== '1.3') throw invalidOption('tls.minVersion', `must be "1.2" or "1.3" (got ${JSON.stringify(tls.minVersion)})`);
  }
  const listenHost = options.listenHost ?? (tls ? '0.0.0.0' : '127.0.0.1');
  if (listenHost !== 'localhost' && isIP(listenHost) === 0) throw invalidOption('listenHost', `must be an IP address or localhost (got ${JSON.stringify(listenHost)})`);

  const dataDir = absolutePath(options.dataDir ?? posix.join(DEFAULT_DATA_ROOT, 'otelcol', name), 'dataDir');
  const allowlist = [...(options.exporterAllowlist ?? []), ...policy.egress.allowlist];
  (options.exporterAllowlist ?? []).forEach((entry, i) => {
    const problem = typeof entry === 'string' ? egressEntryProblem(entry) : 'must be a string';
    if (problem) throw invalidOption(`exporterAllowlist[${i}]`, `${JSON.stringify(entry)}: ${problem}`);
  });

  const exporters: ExporterModel[] = [];
  const retentionDays = FILE_RETENTION_DAYS[name];
  const files = (): ExporterModel[] =>
    (['traces', 'metrics', 'logs'] as const).map((signal) => ({
      id: `file/${signal}` as const,
      backend: 'file' as const,
      signal,
      path: posix.join(dataDir, 'export', `${signal}.jsonl`),
      retentionDays,
      maxMegabytes: 256,
    }));
  if (name === 'airgap') {
    exporters.push(...files());
  } else {
    const queue: QueueModel = { queueSize: name === 'forensic' ? 20_000 : 5_000, persistent: true };
    const tempo = resolveTarget(options.tempo, DEFAULT_BACKENDS.tempo, 'tempo');
    const prometheus = resolveTarget(options.prometheus, DEFAULT_BACKENDS.prometheus, 'prometheus');
    const loki = resolveTarget(options.loki, DEFAULT_BACKENDS.loki, 'loki');
    exporters.push(
      { id: 'otlp/tempo', backend: 'tempo', signal: 'traces', ...tempo, queue },
      { id: 'prometheusremotewrite', backend: 'prometheus', signal: 'metrics', ...prometheus, queueSize: queue.queueSize },
      { id: 'otlphttp/loki', backend: 'loki', signal: 'logs', ...loki, queue },
    );
    if (name === 'forensic') exporters.push(...files());
  }

  return {
    name,
    description: DESCRIPTIONS[name],
    distribution: options.distribution ?? PINNED_DISTRIBUTION,
    sealed,
    redaction: redactionFromPolicy(policy),
    receiver: {
      grpcEndpoint: hostWithPort(listenHost, port(options.grpcPort, 4317, 'grpcPort')),
      httpEndpoint: hostWithPort(listenHost, port(options.httpPort, 4318, 'httpPort')),
      tls,
    },
    memoryLimiter: { checkInterval: '1s', limitPercentage: 80, spikeLimitPercentage: 20 },
    batch: { sendBatchSize: 8192, sendBatchMaxSize: 10_000, timeout: '5s' },
    resourceDetection: { detectors: ['env', 'system'], timeout: '2s' },
    sampling: resolveSampling(name, options.sampling),
    exporters,
    queueDirectory: exporters.some((e) => 'queue' in e && e.queue.persistent) ? posix.join(dataDir, 'queue') : undefined,
    healthCheckEndpoint: '127.0.0.1:13133',
    selfMetrics: { host: '127.0.0.1', port: 8888 },
    exporterAllowlist: [...new Set(allowlist)],
  };
}
