/**
 * The backends of a profile resolved from its name and the operator's options, and their
 * validation: remote write to loopback or the allowlist only (loopback only when sealed),
 * object stores likewise, no plaintext beyond loopback.
 */
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { egressEntryProblem } from '@stellaops/telemetry-core/policy';
import { allowlisted, isLoopbackHost, parseEndpoint } from '../profiles/endpoints.js';
import { ProfileError, type ProfileIssue } from '../profiles/errors.js';
import { PROFILE_NAMES, type ProfileName } from '../profiles/options.js';
import {
  BACKEND_PORTS,
  RETENTION_DAYS,
  STELLAOPS_SCRAPE_JOBS,
  type BackendOptions,
  type ObjectStorage,
  type RemoteWriteTarget,
  type RetentionDays,
} from './options.js';

export interface BackendsModel {
  name: ProfileName;
  sealed: boolean;
  listenHost: string;
  retention: RetentionDays;
  prometheus: {
    dataDir: string;
    ruleFiles: string[];
    /** job → static targets; every job also reads `targets/<job>.json`. */
    jobs: { job: string; targets: string[]; fileSd: boolean }[];
    alertmanagers: string[];
    remoteWrite: RemoteWriteTarget[];
    remoteWriteAllowlist: string[];
    /** The Collector remote-writes into this Prometheus (not in airgap, whose Collector writes files). */
    remoteWriteReceiver: boolean;
  };
  tempo: { dataDir: string; storage: ObjectStorage };
  loki: { dataDir: string; storage: ObjectStorage };
}

export const DEFAULT_RULE_FILES: readonly string[] = Object.freeze(['slo-rules.yaml', 'stella-alerts.yaml']);

function invalidOption(path: string, reason: string): ProfileError {
  return new ProfileError('profile.invalid_option', `option "${path}" ${reason}`, { path });
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function positiveDays(value: number, path: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 3650) throw invalidOption(path, `must be a whole number of days from 1 to 3650 (got ${JSON.stringify(value)})`);
  return value;
}

function target(value: string, path: string): string {
  const e = parseEndpoint(value);
  if (!e || e.scheme !== undefined || e.port === undefined) throw invalidOption(path, `must be host:port (got ${JSON.stringify(value)})`);
  return value;
}

/** Resolves the backends of a profile. Throws `ProfileError` for an unknown profile or a bad option. */
export function buildBackends(name: ProfileName, options: BackendOptions = {}): BackendsModel {
  if (!PROFILE_NAMES.includes(name)) {
    throw new ProfileError('profile.unknown', `unknown profile ${JSON.stringify(name)} (profiles: ${PROFILE_NAMES.join(', ')})`);
  }
  const root = options.dataDir ?? '/var/lib/stellaops';
  if (!posix.isAbsolute(root)) throw invalidOption('dataDir', `must be an absolute path (got ${JSON.stringify(root)})`);
  const listenHost = options.listenHost ?? '127.0.0.1';
  if (listenHost !== 'localhost' && isIP(listenHost) === 0) throw invalidOption('listenHost', `must be an IP address or localhost (got ${JSON.stringify(listenHost)})`);
  const retention: RetentionDays = { ...RETENTION_DAYS[name], ...options.retentionDays };
  for (const key of Object.keys(retention) as (keyof RetentionDays)[]) positiveDays(retention[key], `retentionDays.${key}`);
  if (!(retention.lokiHot <= retention.loki && retention.loki <= retention.lokiCold)) {
    throw invalidOption('retentionDays', `Loki's tiers must grow hot ≤ warm ≤ cold (got ${retention.lokiHot}, ${retention.loki}, ${retention.lokiCold} days)`);
  }

  const rulesDir = options.rulesDir ?? '../../../rules';
  const ruleFiles = (options.ruleFiles ?? DEFAULT_RULE_FILES).map((f) => posix.join(rulesDir, f));
  const scrape = options.scrapeTargets ?? {};
  for (const job of Object.keys(scrape)) {
    if (!STELLAOPS_SCRAPE_JOBS.includes(job)) throw invalidOption(`scrapeTargets.${job}`, `is not a StellaOps service (jobs: ${STELLAOPS_SCRAPE_JOBS.join(', ')})`);
    scrape[job]!.forEach((t, i) => target(t, `scrapeTargets.${job}[${i}]`));
  }
  const service = target(options.serviceMetricsTarget ?? hostPort('127.0.0.1', BACKEND_PORTS.service), 'serviceMetricsTarget');
  const loopback = (port: number): string => hostPort(listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost, port);
  const jobs: BackendsModel['prometheus']['jobs'] = [
    ...STELLAOPS_SCRAPE_JOBS.map((job) => ({
      job,
      targets: [...(job === 'stella-observability' ? [service] : []), ...(scrape[job] ?? [])],
      fileSd: true,
    })),
    { job: 'otelcol', targets: [hostPort('127.0.0.1', BACKEND_PORTS.collectorMetrics)], fileSd: false },
    { job: 'prometheus', targets: [loopback(BACKEND_PORTS.prometheus)], fileSd: false },
    { job: 'tempo', targets: [loopback(BACKEND_PORTS.tempoHttp)], fileSd: false },
    { job: 'loki', targets: [loopback(BACKEND_PORTS.lokiHttp)], fileSd: false },
  ];
  const alertmanagers = (options.alertmanagers ?? [hostPort('127.0.0.1', BACKEND_PORTS.alertmanager)]).map((t, i) => target(t, `alertmanagers[${i}]`));
  const remoteWriteAllowlist = options.remoteWriteAllowlist ?? [];
  remoteWriteAllowlist.forEach((entry, i) => {
    const problem = egressEntryProblem(entry);
    if (problem) throw invalidOption(`remoteWriteAllowlist[${i}]`, `${JSON.stringify(entry)}: ${problem}`);
  });
  const remoteWrite = (options.remoteWrite ?? []).map((r, i) => {
    if (!/^[A-Za-z0-9_-]+$/.test(r.name ?? '')) throw invalidOption(`remoteWrite[${i}].name`, 'must be letters, digits, "_" or "-"');
    if (r.caFile !== undefined && !posix.isAbsolute(r.caFile)) throw invalidOption(`remoteWrite[${i}].caFile`, `must be an absolute path (got ${JSON.stringify(r.caFile)})`);
    return { ...r };
  });
  const storage = (s: ObjectStorage | undefined, path: string): ObjectStorage => {
    if (!s || s.backend === 'filesystem') return { backend: 'filesystem' };
    if (s.backend !== 's3') throw invalidOption(`${path}.backend`, 'must be "filesystem" or "s3"');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.bucket ?? '')) throw invalidOption(`${path}.bucket`, `must be an S3 bucket name (got ${JSON.stringify(s.bucket)})`);
    target(s.endpoint, `${path}.endpoint`);
    return { backend: 's3', bucket: s.bucket, endpoint: s.endpoint, region: s.region ?? 'us-east-1', insecure: s.insecure ?? false, forcePathStyle: s.forcePathStyle ?? true };
  };
  return {
    name,
    sealed: options.sealed ?? name === 'airgap',
    listenHost,
    retention,
    prometheus: {
      dataDir: posix.join(root, 'prometheus', name),
      ruleFiles,
      jobs,
      alertmanagers,
      remoteWrite,
      remoteWriteAllowlist: [...remoteWriteAllowlist],
      remoteWriteReceiver: name !== 'airgap',
    },
    tempo: { dataDir: posix.join(root, 'tempo', name), storage: storage(options.tempoStorage, 'tempoStorage') },
    loki: { dataDir: posix.join(root, 'loki', name), storage: storage(options.lokiStorage, 'lokiStorage') },
  };
}

/** Problems with where the backends send data: remote write and object stores. */
export function validateBackends(model: BackendsModel): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const error = (code: ProfileIssue['code'], path: string, message: string): void => {
    issues.push({ code, severity: 'error', path, message });
  };
  model.prometheus.remoteWrite.forEach((r, i) => {
    const path = `prometheus.remote_write[${i}].url`;
    const e = parseEndpoint(r.url);
    if (!e || (e.scheme !== 'http:' && e.scheme !== 'https:')) {
      error('backend.endpoint_invalid', path, `${JSON.stringify(r.url)} is not an http(s) URL`);
      return;
    }
    const loopback = isLoopbackHost(e.host);
    if (model.sealed && !loopback) {
      error(
        'backend.sealed_egress',
        path,
        `sealed mode allows remote write to loopback only, and ${JSON.stringify(r.url)} leaves the host; remove it, or forward through a loopback receiver that the enclave's transfer process reads`,
      );
    } else if (!loopback && !allowlisted(e, model.prometheus.remoteWriteAllowlist)) {
      error('backend.remote_write_not_allowlisted', path, `${JSON.stringify(r.url)} is not on the remote-write allowlist; add ${JSON.stringify(e.port ? `${e.host}:${e.port}` : e.host)} to remoteWriteAllowlist`);
    } else if (!loopback && e.scheme === 'http:') {
      error('backend.endpoint_invalid', path, `sends to ${JSON.stringify(r.url)} without TLS; plaintext is allowed on loopback only: use https`);
    }
  });
  for (const [backend, s] of [['tempo', model.tempo.storage], ['loki', model.loki.storage]] as const) {
    if (s.backend !== 's3') continue;
    const path = `${backend}.storage.s3.endpoint`;
    const e = parseEndpoint(s.endpoint)!;
    const loopback = isLoopbackHost(e.host);
    if (model.sealed && !loopback) {
      error('backend.sealed_egress', path, `sealed mode allows object stores on loopback only, and ${JSON.stringify(s.endpoint)} leaves the host; use filesystem storage or an object store on this host`);
    } else if (!loopback && s.insecure) {
      error('backend.endpoint_invalid', path, `reaches ${JSON.stringify(s.endpoint)} without TLS; plaintext (insecure: true) is allowed on loopback only`);
    }
  }
  return issues;
}
