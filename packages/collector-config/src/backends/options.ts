/**
 * What an operator chooses for the storage backends of a profile (STO-1), with the defaults
 * each profile resolves them to.
 */
import type { ProfileName } from '../profiles/options.js';

/** Where Tempo or Loki keep their blocks and chunks. */
export type ObjectStorage =
  | { backend: 'filesystem' }
  | {
      backend: 's3';
      /** Bucket name. */
      bucket: string;
      /** `host:port` of the S3-compatible store. Credentials come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), never the file. */
      endpoint: string;
      /** Default `us-east-1`. */
      region?: string;
      /** Plaintext HTTP to the store: loopback only. Default false. */
      insecure?: boolean;
      /** Path-style bucket addressing (MinIO and most on-premises stores). Default true. */
      forcePathStyle?: boolean;
    };

/** A destination Prometheus forwards its samples to. */
export interface RemoteWriteTarget {
  /** Name shown in Prometheus' own metrics (`remote_name`). */
  name: string;
  /** `https://…/api/v1/write`; must be loopback or on `remoteWriteAllowlist`. */
  url: string;
  /** CA bundle the destination's certificate must chain to. Default: the system roots. */
  caFile?: string;
}

export interface RetentionDays {
  prometheus: number;
  tempo: number;
  /** Loki's warm tier: every log stream without a tier of its own. */
  loki: number;
  /** Loki's hot tier: streams whose resource says `stella.retention=hot`. */
  lokiHot: number;
  /** Loki's cold tier: streams whose resource says `stella.retention=cold`. */
  lokiCold: number;
}

export interface BackendOptions {
  /** Sealed installation: remote write and object stores on loopback only. Default: true for `airgap`, false otherwise. */
  sealed?: boolean;
  /** Root of the backends' data directories (`<dataDir>/<backend>/<profile>`). Default `/var/lib/stellaops`. */
  dataDir?: string;
  /** Address Prometheus, Tempo and Loki listen on. Default `127.0.0.1`. */
  listenHost?: string;
  /**
   * Directory of the Prometheus rule files, absolute or relative to prometheus.yml. Default
   * `../../../rules`: deploy/rules as seen from deploy/backends/<profile>/prometheus/.
   */
  rulesDir?: string;
  /** Rule files in `rulesDir`. Default the generated SLO rules and the StellaOps alerts. */
  ruleFiles?: string[];
  /** The Observability & Forensics service's `/metrics` (`host:port`). Default `127.0.0.1:8080`. */
  serviceMetricsTarget?: string;
  /** Static scrape targets (`host:port`) per StellaOps service job; every job also reads `targets/<job>.json` (file_sd). Default none. */
  scrapeTargets?: Readonly<Record<string, readonly string[]>>;
  /** Alertmanagers (`host:port`). Default `127.0.0.1:9093`. */
  alertmanagers?: string[];
  /** Where Prometheus forwards samples. Default none. */
  remoteWrite?: RemoteWriteTarget[];
  /** Remote-write destinations allowed beyond loopback (host, `host:port` or origin). Default none. */
  remoteWriteAllowlist?: string[];
  /** Retention over the profile's defaults (see `RETENTION_DAYS`). */
  retentionDays?: Partial<RetentionDays>;
  /** Tempo's block storage. Default filesystem. */
  tempoStorage?: ObjectStorage;
  /** Loki's chunk storage. Default filesystem. */
  lokiStorage?: ObjectStorage;
}

/** Retention per profile (STO-1, STO-4): 30 days by default, 180 forensic. */
export const RETENTION_DAYS: Readonly<Record<ProfileName, Readonly<RetentionDays>>> = Object.freeze({
  default: Object.freeze({ prometheus: 30, tempo: 30, loki: 30, lokiHot: 7, lokiCold: 365 }),
  forensic: Object.freeze({ prometheus: 180, tempo: 180, loki: 180, lokiHot: 7, lokiCold: 365 }),
  airgap: Object.freeze({ prometheus: 30, tempo: 30, loki: 30, lokiHot: 7, lokiCold: 365 }),
});

/**
 * The StellaOps services Prometheus scrapes, each as its own job named after the service (the
 * SLO rules select on `job`), the Observability & Forensics service first.
 */
export const STELLAOPS_SCRAPE_JOBS: readonly string[] = Object.freeze([
  'stella-observability',
  'sbom-service',
  'conseiller',
  'excitator',
  'policy-engine',
  'export-center',
  'orchestrator',
  'task-runner',
]);

/** Ports of the backends, shared with the Collector profiles' defaults. */
export const BACKEND_PORTS = Object.freeze({
  prometheus: 9090,
  alertmanager: 9093,
  tempoHttp: 3200,
  tempoGrpc: 9095,
  /** Tempo's OTLP/gRPC receiver: the Collector's `otlp/tempo` exporter sends here. */
  tempoOtlpGrpc: 14317,
  lokiHttp: 3100,
  lokiGrpc: 9096,
  collectorMetrics: 8888,
  service: 8080,
});
