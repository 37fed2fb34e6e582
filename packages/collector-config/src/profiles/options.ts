/**
 * What an operator chooses when rendering a profile, with the defaults each profile resolves
 * them to. Everything else about a profile follows from its name.
 */
import type { TelemetryPolicy } from '@stellaops/telemetry-core/policy';
import type { Distribution } from './distribution.js';

export type ProfileName = 'default' | 'forensic' | 'airgap';

/** The profiles, in the order the docs describe them. */
export const PROFILE_NAMES: readonly ProfileName[] = Object.freeze(['default', 'forensic', 'airgap']);

/** TLS of the OTLP receivers. */
export interface ReceiverTlsOptions {
  /** Server certificate (PEM). Default `/etc/stellaops/otelcol/tls/server.crt`. */
  certFile?: string;
  /** Its private key (PEM). Default `/etc/stellaops/otelcol/tls/server.key`. */
  keyFile?: string;
  /**
   * CA bundle that client certificates must chain to: mutual TLS. `null` turns client
   * certificates off (server TLS only). Default `/etc/stellaops/otelcol/tls/client-ca.crt`.
   */
  clientCaFile?: string | null;
  /** Lowest TLS version accepted. Default `1.2`. */
  minVersion?: '1.2' | '1.3';
}

/** TLS of a connection the Collector opens to a backend. */
export interface ClientTlsOptions {
  /** CA bundle the backend's certificate must chain to. Default: the system roots. */
  caFile?: string;
  /** Client certificate, for backends that require mutual TLS. */
  certFile?: string;
  /** Its private key. */
  keyFile?: string;
  /** Name expected in the backend's certificate, when it differs from the endpoint's host. */
  serverName?: string;
}

/** Where the Collector sends one signal. */
export interface BackendTarget {
  /** Endpoint as the Collector's exporter takes it (`host:port` for OTLP/gRPC, a URL otherwise). */
  endpoint: string;
  /**
   * TLS towards it. Default: none on a loopback endpoint (plaintext gRPC / `http://`), the
   * system roots beyond it; validation refuses plaintext beyond loopback.
   */
  tls?: ClientTlsOptions;
}

/** Tail sampling; every field defaults per profile (see `SAMPLING_DEFAULTS`). */
export interface SamplingOptions {
  /** How long spans of a trace are held before its decision, e.g. `10s`. */
  decisionWait: string;
  /** Traces held in memory at once. */
  numTraces: number;
  /** Expected new traces per second (sizes the processor's maps). */
  expectedNewTracesPerSec: number;
  /** Share of traces with an ERROR span that are kept, 0–100. */
  errorsPercent: number;
  /** Cap on the spans per second kept for errors; undefined: no cap. */
  errorsSpansPerSecond: number | undefined;
  /** Traces at least this long are kept. */
  latencyThresholdMs: number;
  /** Share of every other trace kept, 0–100. */
  baselinePercent: number;
  /** Share kept per `service.name`, 0–100, on top of the baseline. */
  services: Readonly<Record<string, number>>;
}

export interface ProfileOptions {
  /**
   * The telemetry policy, already validated (`loadTelemetryPolicy` of
   * `@stellaops/telemetry-core/policy`). Default: read from `policyFile`.
   */
  policy?: TelemetryPolicy;
  /**
   * Telemetry policy file (`STELLA_TELEMETRY_POLICY` of the services), used when `policy` is not
   * given. Default: telemetry-core's shipped default policy (the built-in lists only).
   */
  policyFile?: string;
  /** A sealed installation: exporters to loopback or files only. Default: true for `airgap`, false otherwise. */
  sealed?: boolean;
  /** TLS of the OTLP receivers; `false` for plaintext, which listens on loopback only. Default: mutual TLS with the default paths. */
  tls?: ReceiverTlsOptions | false;
  /** Address the receivers listen on. Default `0.0.0.0` with TLS, `127.0.0.1` without. */
  listenHost?: string;
  /** OTLP/gRPC receiver port. Default 4317. */
  grpcPort?: number;
  /** OTLP/HTTP receiver port. Default 4318. */
  httpPort?: number;
  /** Tempo's OTLP/gRPC receiver. Default `127.0.0.1:14317`. Not used by `airgap`. */
  tempo?: BackendTarget;
  /** Prometheus' remote-write receiver. Default `http://127.0.0.1:9090/api/v1/write`. Not used by `airgap`. */
  prometheus?: BackendTarget;
  /** Loki's OTLP endpoint (the exporter appends `/v1/logs`). Default `http://127.0.0.1:3100/otlp`. Not used by `airgap`. */
  loki?: BackendTarget;
  /**
   * Endpoints exporters may send to besides loopback, in the telemetry policy's egress forms
   * (host, address, `host:port`, origin). The policy's `egress.allowlist` is added. Default: none.
   * Ignored in sealed mode, which allows loopback and files only.
   */
  exporterAllowlist?: string[];
  /** Directory for file exports and persistent export queues. Default `/var/lib/stellaops/otelcol/<profile>`. */
  dataDir?: string;
  /** Tail-sampling settings over the profile's defaults. */
  sampling?: Partial<SamplingOptions>;
  /** Collector distribution the profile is pinned to. Default `PINNED_DISTRIBUTION` (otelcol-contrib 0.136.0). */
  distribution?: Distribution;
}

/** Tail sampling per profile: forensic keeps every error, waits longer and keeps more of the rest. */
export const SAMPLING_DEFAULTS: Readonly<Record<ProfileName, Readonly<SamplingOptions>>> = Object.freeze({
  default: Object.freeze({
    decisionWait: '10s',
    numTraces: 50_000,
    expectedNewTracesPerSec: 500,
    errorsPercent: 100,
    errorsSpansPerSecond: 2_000,
    latencyThresholdMs: 1_000,
    baselinePercent: 10,
    services: Object.freeze({ 'export-center': 25, 'policy-engine': 25 }),
  }),
  forensic: Object.freeze({
    decisionWait: '30s',
    numTraces: 200_000,
    expectedNewTracesPerSec: 500,
    errorsPercent: 100,
    errorsSpansPerSecond: undefined,
    latencyThresholdMs: 500,
    baselinePercent: 25,
    services: Object.freeze({ 'export-center': 100, 'policy-engine': 100 }),
  }),
  airgap: Object.freeze({
    decisionWait: '10s',
    numTraces: 50_000,
    expectedNewTracesPerSec: 500,
    errorsPercent: 100,
    errorsSpansPerSecond: undefined,
    latencyThresholdMs: 1_000,
    baselinePercent: 10,
    services: Object.freeze({ 'export-center': 25, 'policy-engine': 25 }),
  }),
});

/** Days the profile's file exports (airgap: everything; forensic: the archive) are kept. */
export const FILE_RETENTION_DAYS: Readonly<Record<ProfileName, number>> = Object.freeze({ default: 30, forensic: 180, airgap: 30 });

export const DEFAULT_TLS_DIR = '/etc/stellaops/otelcol/tls';
export const DEFAULT_DATA_ROOT = '/var/lib/stellaops';
export const DEFAULT_BACKENDS = Object.freeze({
  tempo: '127.0.0.1:14317',
  prometheus: 'http://127.0.0.1:9090/api/v1/write',
  loki: 'http://127.0.0.1:3100/otlp',
});
