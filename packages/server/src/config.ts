/**
 * The service's configuration, resolved once at start from (highest first) command-line
 * flags, environment variables, an optional JSON file (`--config` / `STELLA_CONFIG`), and the
 * embedded defaults. Absent database and NATS URLs select the embedded engines.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidTenantId, tenantIdProblem } from '@stellaops/telemetry-core/tenant-id';
import { REPLICA_ID_RE } from './segments/segment-path.js';

export interface ServiceConfig {
  /** TCP port. Default 8080 (`STELLA_PORT`). */
  port: number;
  /** Listen address. Default `0.0.0.0` (`STELLA_HOST`). */
  host: string;
  /** Longest wait for a client's request headers, in ms; then 408 and the socket closes. Default 10000 (`STELLA_HTTP_HEADERS_TIMEOUT_MS`). */
  httpHeadersTimeoutMs: number;
  /** Longest wait for a whole request (headers and body), in ms; then 408 and the socket closes. Default 30000 (`STELLA_HTTP_REQUEST_TIMEOUT_MS`). */
  httpRequestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms. Default 72000 (`STELLA_HTTP_KEEP_ALIVE_TIMEOUT_MS`). */
  httpKeepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long, in ms, is closed. Default 120000 (`STELLA_HTTP_CONNECTION_TIMEOUT_MS`). */
  httpConnectionTimeoutMs: number;
  /** Data directory for the embedded store and development authority. Default `./.stella` (`STELLA_DATA_DIR`). */
  dataDir: string;
  /** PostgreSQL URL the service queries with; absent → embedded PGlite in `<dataDir>/db` (`STELLA_DATABASE_URL`). */
  databaseUrl: string | undefined;
  /** PostgreSQL URL migrations run with (the schema owner). Default: `databaseUrl` (`STELLA_DATABASE_OWNER_URL`). */
  databaseOwnerUrl: string | undefined;
  /** The NOSUPERUSER NOBYPASSRLS role every query runs as. Default `stella_app` (`STELLA_DATABASE_APP_ROLE`). */
  databaseAppRole: string;
  /** PostgreSQL pool size. Default 10 (`STELLA_DATABASE_POOL_SIZE`). */
  databasePoolSize: number;
  /** NATS server URL(s), comma-separated; absent → in-process bus (`STELLA_NATS_URL`). */
  natsUrl: string | undefined;
  /** JetStream stream name. Default `STELLA` (`STELLA_NATS_STREAM`). */
  natsStream: string;
  /** Subject prefix. Default `stella` (`STELLA_SUBJECT_PREFIX`). */
  subjectPrefix: string;
  /** Durable consumer of the timeline indexer. Default `stella-timeline-indexer` (`STELLA_INDEXER_DURABLE`). */
  indexerDurable: string;
  /** Air-gapped installation: no non-loopback egress (a JWKS URL must be loopback). Default false (`STELLA_SEALED`). */
  sealed: boolean;
  /** JWKS URL of StellaOps Authority (`STELLA_AUTH_JWKS_URL`). */
  authJwksUrl: string | undefined;
  /** JWKS file for air-gapped installs (`STELLA_AUTH_JWKS_FILE`). Neither set → the development authority in the data dir. */
  authJwksFile: string | undefined;
  /** Required `iss` claim. Default: the development authority's issuer when it is used, else none (`STELLA_AUTH_ISSUER`). */
  authIssuer: string | undefined;
  /** Required `aud` claim. Default `stella-observability` (`STELLA_AUTH_AUDIENCE`). */
  authAudience: string;
  /** Days of timeline kept for tenants without their own setting. Default 180 (`STELLA_TIMELINE_RETENTION_DAYS`). */
  timelineRetentionDays: number;
  /** Interval of the retention job in ms. Default 3600000 (`STELLA_RETENTION_INTERVAL_MS`). */
  retentionIntervalMs: number;
  /** Log level. Default `info` (`STELLA_LOG_LEVEL`). */
  logLevel: string;
  /** OTLP/HTTP receiver port; 0 picks a free one. Default 4318 (`STELLA_OTLP_HTTP_PORT`). */
  otlpHttpPort: number;
  /** OTLP/gRPC receiver port; 0 picks a free one. Default 4317 (`STELLA_OTLP_GRPC_PORT`). */
  otlpGrpcPort: number;
  /** Largest OTLP request, compressed or decompressed, in bytes. Default 16777216 (`STELLA_OTLP_MAX_MESSAGE_BYTES`). */
  otlpMaxMessageBytes: number;
  /** Memory held by OTLP requests in progress (bodies, decompressed bodies, an estimate of the decoded objects) before new requests get 503 + Retry-After. Default 134217728 (`STELLA_OTLP_MAX_INFLIGHT_BYTES`). */
  otlpMaxInflightBytes: number;
  /** Most spans, log records or data points in one OTLP request; more → 413 `otlp.too_many_items`. Default 100000 (`STELLA_OTLP_MAX_ITEMS_PER_REQUEST`). */
  otlpMaxItemsPerRequest: number;
  /** Most attributes and other nested values (events, links, array elements, buckets) in one OTLP request; more → 413. Default 500000 (`STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST`). */
  otlpMaxAttributesPerRequest: number;
  /** Worker threads preparing large OTLP requests off the event loop; 0 prepares everything on it. Default: cores − 1, at least 1 (`STELLA_OTLP_PREPARE_WORKERS`). */
  otlpPrepareWorkers: number | undefined;
  /** Per-tenant ingest quota in records (spans, log records, data points) per second. Default 200000 (`STELLA_OTLP_TENANT_RECORDS_PER_SEC`). */
  otlpTenantRecordsPerSec: number;
  /** Per-tenant ingest quota in bytes per second. Default 67108864 (`STELLA_OTLP_TENANT_BYTES_PER_SEC`). */
  otlpTenantBytesPerSec: number;
  /** Days traces are kept in the embedded store unless a tenant sets its own. Default 7 (`STELLA_TELEMETRY_TRACES_RETENTION_DAYS`). */
  telemetryTracesRetentionDays: number;
  /** Days logs are kept. Default 7 (`STELLA_TELEMETRY_LOGS_RETENTION_DAYS`). */
  telemetryLogsRetentionDays: number;
  /** Days metrics are kept. Default 30 (`STELLA_TELEMETRY_METRICS_RETENTION_DAYS`). */
  telemetryMetricsRetentionDays: number;
  /** Interval of the segment seal and telemetry retention job in ms. Default 60000 (`STELLA_SEGMENT_SEAL_INTERVAL_MS`). */
  segmentSealIntervalMs: number;
  /** Directory of the telemetry segments; replicas of one installation share it. Default `<dataDir>/telemetry/segments` (`STELLA_SEGMENTS_DIR`). */
  segmentsDir: string;
  /** This replica's id, in the names of the segment files it writes; unique per replica. Default: made once and kept in `<dataDir>/replica-id` (`STELLA_REPLICA_ID`). */
  replicaId: string | undefined;
  /** How often a replica on PostgreSQL tries to lead the periodic jobs, and the leader checks it still does, in ms. Default 2000 (`STELLA_LEADER_POLL_MS`). */
  leaderPollMs: number;
  /** Widest window `/obs/logs`, `/obs/metrics` and `/obs/health` accept, in hours. Default 24 (`STELLA_OBS_MAX_WINDOW_HOURS`). */
  obsMaxWindowHours: number;
  /** Most rows one `/obs/*` answer returns. Default 1000 (`STELLA_OBS_MAX_RESULTS`). */
  obsMaxResults: number;
  /** Link to an external trace UI, `{trace_id}` replaced, e.g. `https://tempo.example/trace/{trace_id}` (`STELLA_TRACE_DEEP_LINK`). */
  traceDeepLink: string | undefined;
  /** Widest forensic capture window in hours. Default 168 (`STELLA_CAPTURE_MAX_WINDOW_HOURS`). */
  captureMaxWindowHours: number;
  /** Notify webhook for incident start/stop (CloudEvents 1.0 JSON) (`STELLA_INCIDENT_WEBHOOK_URL`). */
  incidentWebhookUrl: string | undefined;
  /** HMAC-SHA256 key for the webhook's `X-Stella-Signature` header (`STELLA_INCIDENT_WEBHOOK_SECRET`). */
  incidentWebhookSecret: string | undefined;
  /** Delivery attempts per webhook event. Default 6 (`STELLA_INCIDENT_WEBHOOK_MAX_ATTEMPTS`). */
  incidentWebhookMaxAttempts: number;
  /** First retry delay in ms, doubling per attempt. Default 1000 (`STELLA_INCIDENT_WEBHOOK_RETRY_BASE_MS`). */
  incidentWebhookRetryBaseMs: number;
  /** Longest incident TTL in hours. Default 72 (`STELLA_INCIDENT_MAX_TTL_HOURS`). */
  incidentMaxTtlHours: number;
  /** Minutes after an incident ends during which automatic triggers cannot start another. Default 15 (`STELLA_INCIDENT_COOLDOWN_MINUTES`). */
  incidentCooldownMinutes: number;
  /** Minutes before the start an incident's automatic capture covers. Default 60 (`STELLA_INCIDENT_CAPTURE_LOOKBACK_MINUTES`). */
  incidentCaptureLookbackMinutes: number;
  /** Hours added on both sides of an incident window for extended retention. Default 24 (`STELLA_INCIDENT_RETENTION_MARGIN_HOURS`). */
  incidentRetentionMarginHours: number;
  /** Prometheus the metrics query and the SLO evaluator ask instead of the embedded store, e.g. `http://prometheus:9090` (`STELLA_PROMETHEUS_URL`). */
  prometheusUrl: string | undefined;
  /** The label that carries the tenant id on every Prometheus series. Default `stella_tenant_id` (`STELLA_PROMETHEUS_TENANT_LABEL`). */
  prometheusTenantLabel: string;
  /** Longest wait for one Prometheus answer, in ms. Default 10000 (`STELLA_PROMETHEUS_TIMEOUT_MS`). */
  prometheusTimeoutMs: number;
  /** Most series one `/obs/metrics` answer holds; more is a 400. Default 500 (`STELLA_OBS_METRICS_MAX_SERIES`). */
  obsMetricsMaxSeries: number;
  /** Most points per series one `/obs/metrics` answer holds (window / step + 1); more is a 400. Default 11000, Prometheus' own limit (`STELLA_OBS_METRICS_MAX_POINTS`). */
  obsMetricsMaxPoints: number;
  /** Directory (or file) of the OpenSLO SLOs the service evaluates. Default: the shipped `deploy/slo` (`STELLA_SLO_DIR`). */
  sloDir: string;
  /** Directory of the built Console, served at `/console`. Default: the repository's `packages/console/dist` (`STELLA_CONSOLE_DIR`). */
  consoleDir: string;
  /** How often the SLOs are evaluated for every tenant, in ms. Default 60000 (`STELLA_SLO_EVALUATION_INTERVAL_MS`). */
  sloEvaluationIntervalMs: number;
  /** Burn rate from which a page-level breach switches incident mode on for the tenant and the SLO's service; undefined (`off`) never. Default 14.4 (`STELLA_SLO_INCIDENT_BURN_RATE`). */
  sloIncidentBurnRate: number | undefined;
  /** TTL of the incident mode an SLO breach switches on, in minutes. Default 240 (`STELLA_SLO_INCIDENT_TTL_MINUTES`). */
  sloIncidentTtlMinutes: number;
  /** Webhooks called on SLO breaches: comma-separated URLs, each optionally prefixed `alertmanager:` (Alertmanager webhook JSON) or `cloudevents:` (the default) (`STELLA_SLO_WEBHOOKS`). */
  sloWebhooks: SloWebhook[];
  /** HMAC-SHA256 key for the breach webhooks' `X-Stella-Signature` header (`STELLA_SLO_WEBHOOK_SECRET`). */
  sloWebhookSecret: string | undefined;
  /** Tenant the service files its own traces and logs under; read them with `stella:obs:read#tenant/<it>`. Default `stella-ops` (`STELLA_SELF_TENANT`). */
  selfTenant: string;
  /** Store the service's own traces and logs in its telemetry store, under `selfTenant`. Default true (`STELLA_SELF_TELEMETRY`). */
  selfTelemetry: boolean;
  /** Share of the service's own requests traced when the caller sends no `traceparent` (a caller's sampling decision is followed; failed and slow requests are kept anyway). Default 0.1 (`STELLA_SELF_SAMPLING_RATIO`). */
  selfSamplingRatio: number;
  /** Port of a listener serving only `GET /metrics`, besides the API port's; absent → none (`STELLA_METRICS_PORT`). */
  metricsPort: number | undefined;
  /** DORA-4 lead-time target in hours: each deployment over it counts as a breach. Default 24 (`STELLA_DORA_LEAD_TIME_TARGET_HOURS`). */
  doraLeadTimeTargetHours: number;
  /** DORA-4 deployment-frequency target per day: a window below it is a breach. Default 1 (`STELLA_DORA_DEPLOYMENT_FREQUENCY_TARGET_PER_DAY`). */
  doraDeploymentFrequencyTargetPerDay: number;
  /** DORA-4 change-failure-rate target in percent: a window above it is a breach. Default 15 (`STELLA_DORA_CHANGE_FAILURE_RATE_TARGET_PERCENT`). */
  doraChangeFailureRateTargetPercent: number;
  /** DORA-4 time-to-recovery target in hours: each resolved incident over it counts as a breach. Default 1 (`STELLA_DORA_MTTR_TARGET_HOURS`). */
  doraMttrTargetHours: number;
  /** Trailing window of the DORA gauges on `/metrics` (deployment frequency, change failure rate), in days. Default 30 (`STELLA_DORA_GAUGE_WINDOW_DAYS`). */
  doraGaugeWindowDays: number;
  /** How often the DORA gauges are computed again for every tenant, in ms. Default 60000 (`STELLA_DORA_GAUGE_INTERVAL_MS`). */
  doraGaugeIntervalMs: number;
  /** The federation key map `{"keys": {"<keyid>": "<base64 secret>"}}` bundles are signed and verified with; absent → `<dataDir>/federation/keys.json`, made with one key on first use (`STELLA_FEDERATION_KEYS_FILE`). */
  federationKeysFile: string | undefined;
  /** The key of the map the service signs with; absent → the map's only key (`STELLA_FEDERATION_SIGNING_KEY_ID`). */
  federationSigningKeyId: string | undefined;
  /** k: a bucket seen in fewer artifacts is left out of a bundle. Default 5 (`STELLA_FEDERATION_MIN_ARTIFACTS`). */
  federationMinArtifacts: number;
  /** With no signing key, sign nothing and tag envelopes `offline-unsigned-fallback` instead of failing. Default false (`STELLA_FEDERATION_ALLOW_UNSIGNED`). */
  federationAllowUnsigned: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'config.invalid';
}

type Source = Record<string, string | undefined>;

/** Timeouts of the API listener (the OTLP receivers have their own). */
export const HTTP_TIMEOUT_DEFAULTS = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000, connectionMs: 120_000 } as const;

const KEYS = {
  port: ['port', 'STELLA_PORT', 'TCP port. Default 8080.'],
  host: ['host', 'STELLA_HOST', 'Listen address. Default `0.0.0.0`.'],
  httpHeadersTimeoutMs: ['http-headers-timeout-ms', 'STELLA_HTTP_HEADERS_TIMEOUT_MS', 'Longest wait for a client\'s request headers, in ms; then 408 and the socket closes. Default 10000.'],
  httpRequestTimeoutMs: ['http-request-timeout-ms', 'STELLA_HTTP_REQUEST_TIMEOUT_MS', 'Longest wait for a whole request (headers and body), in ms; then 408 and the socket closes. Default 30000.'],
  httpKeepAliveTimeoutMs: ['http-keep-alive-timeout-ms', 'STELLA_HTTP_KEEP_ALIVE_TIMEOUT_MS', 'How long an idle keep-alive connection stays open, in ms. Default 72000.'],
  httpConnectionTimeoutMs: ['http-connection-timeout-ms', 'STELLA_HTTP_CONNECTION_TIMEOUT_MS', 'A socket with no traffic either way for this long, in ms, is closed. Default 120000.'],
  dataDir: ['data-dir', 'STELLA_DATA_DIR', 'Data directory for the embedded store and development authority. Default `./.stella`.'],
  databaseUrl: ['database-url', 'STELLA_DATABASE_URL', 'PostgreSQL URL the service queries with; absent → embedded PGlite in <data dir>/db.'],
  databaseOwnerUrl: ['database-owner-url', 'STELLA_DATABASE_OWNER_URL', 'PostgreSQL URL migrations run with (the schema owner). Default: --database-url.'],
  databaseAppRole: ['database-app-role', 'STELLA_DATABASE_APP_ROLE', 'The NOSUPERUSER NOBYPASSRLS role every query runs as. Default `stella_app`.'],
  databasePoolSize: ['database-pool-size', 'STELLA_DATABASE_POOL_SIZE', 'PostgreSQL pool size. Default 10.'],
  natsUrl: ['nats-url', 'STELLA_NATS_URL', 'NATS server URL(s), comma-separated; absent → in-process bus.'],
  natsStream: ['nats-stream', 'STELLA_NATS_STREAM', 'JetStream stream name. Default `STELLA`.'],
  subjectPrefix: ['subject-prefix', 'STELLA_SUBJECT_PREFIX', 'Subject prefix. Default `stella`.'],
  indexerDurable: ['indexer-durable', 'STELLA_INDEXER_DURABLE', 'Durable consumer of the timeline indexer. Default `stella-timeline-indexer`.'],
  sealed: ['sealed', 'STELLA_SEALED', 'Air-gapped installation: no non-loopback egress (a JWKS URL must be loopback). Default false.'],
  authJwksUrl: ['auth-jwks-url', 'STELLA_AUTH_JWKS_URL', 'JWKS URL of StellaOps Authority.'],
  authJwksFile: ['auth-jwks-file', 'STELLA_AUTH_JWKS_FILE', 'JWKS file for air-gapped installs. Neither set → the development authority in the data dir.'],
  authIssuer: ['auth-issuer', 'STELLA_AUTH_ISSUER', 'Required `iss` claim. Default: the development authority\'s issuer when it is used, else none.'],
  authAudience: ['auth-audience', 'STELLA_AUTH_AUDIENCE', 'Required `aud` claim. Default `stella-observability`.'],
  timelineRetentionDays: ['timeline-retention-days', 'STELLA_TIMELINE_RETENTION_DAYS', 'Days of timeline kept for tenants without their own setting. Default 180.'],
  retentionIntervalMs: ['retention-interval-ms', 'STELLA_RETENTION_INTERVAL_MS', 'Interval of the retention job in ms. Default 3600000.'],
  logLevel: ['log-level', 'STELLA_LOG_LEVEL', 'Log level. Default `info`.'],
  otlpHttpPort: ['otlp-http-port', 'STELLA_OTLP_HTTP_PORT', 'OTLP/HTTP receiver port; 0 picks a free one. Default 4318.'],
  otlpGrpcPort: ['otlp-grpc-port', 'STELLA_OTLP_GRPC_PORT', 'OTLP/gRPC receiver port; 0 picks a free one. Default 4317.'],
  otlpMaxMessageBytes: ['otlp-max-message-bytes', 'STELLA_OTLP_MAX_MESSAGE_BYTES', 'Largest OTLP request, compressed or decompressed, in bytes. Default 16777216.'],
  otlpMaxInflightBytes: ['otlp-max-inflight-bytes', 'STELLA_OTLP_MAX_INFLIGHT_BYTES', 'Memory held by OTLP requests in progress (bodies, decompressed bodies, an estimate of the decoded objects) before new requests get 503 + Retry-After. Default 134217728.'],
  otlpMaxItemsPerRequest: ['otlp-max-items-per-request', 'STELLA_OTLP_MAX_ITEMS_PER_REQUEST', 'Most spans, log records or data points in one OTLP request; more → 413 `otlp.too_many_items`. Default 100000.'],
  otlpMaxAttributesPerRequest: ['otlp-max-attributes-per-request', 'STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST', 'Most attributes and other nested values (events, links, array elements, buckets) in one OTLP request; more → 413. Default 500000.'],
  otlpPrepareWorkers: ['otlp-prepare-workers', 'STELLA_OTLP_PREPARE_WORKERS', 'Worker threads preparing large OTLP requests off the event loop; 0 prepares everything on it. Default: cores − 1, at least 1.'],
  otlpTenantRecordsPerSec: ['otlp-tenant-records-per-sec', 'STELLA_OTLP_TENANT_RECORDS_PER_SEC', 'Per-tenant ingest quota in records (spans, log records, data points) per second. Default 200000.'],
  otlpTenantBytesPerSec: ['otlp-tenant-bytes-per-sec', 'STELLA_OTLP_TENANT_BYTES_PER_SEC', 'Per-tenant ingest quota in bytes per second. Default 67108864.'],
  telemetryTracesRetentionDays: ['telemetry-traces-retention-days', 'STELLA_TELEMETRY_TRACES_RETENTION_DAYS', 'Days traces are kept in the embedded store unless a tenant sets its own. Default 7.'],
  telemetryLogsRetentionDays: ['telemetry-logs-retention-days', 'STELLA_TELEMETRY_LOGS_RETENTION_DAYS', 'Days logs are kept. Default 7.'],
  telemetryMetricsRetentionDays: ['telemetry-metrics-retention-days', 'STELLA_TELEMETRY_METRICS_RETENTION_DAYS', 'Days metrics are kept. Default 30.'],
  segmentSealIntervalMs: ['segment-seal-interval-ms', 'STELLA_SEGMENT_SEAL_INTERVAL_MS', 'Interval of the segment seal and telemetry retention job in ms. Default 60000.'],
  segmentsDir: ['segments-dir', 'STELLA_SEGMENTS_DIR', 'Directory of the telemetry segments; replicas of one installation share it. Default `<data dir>/telemetry/segments`.'],
  replicaId: ['replica-id', 'STELLA_REPLICA_ID', 'This replica\'s id, in the names of the segment files it writes (letters, digits, `_`, `-`); unique per replica. Default: made once and kept in <data dir>/replica-id.'],
  leaderPollMs: ['leader-poll-ms', 'STELLA_LEADER_POLL_MS', 'How often a replica on PostgreSQL tries to lead the periodic jobs, and the leader checks it still does, in ms. Default 2000.'],
  obsMaxWindowHours: ['obs-max-window-hours', 'STELLA_OBS_MAX_WINDOW_HOURS', 'Widest window `/obs/logs`, `/obs/metrics` and `/obs/health` accept, in hours. Default 24.'],
  obsMaxResults: ['obs-max-results', 'STELLA_OBS_MAX_RESULTS', 'Most rows one `/obs/*` answer returns. Default 1000.'],
  traceDeepLink: ['trace-deep-link', 'STELLA_TRACE_DEEP_LINK', 'Link to an external trace UI, `{trace_id}` replaced, e.g. `https://tempo.example/trace/{trace_id}`.'],
  captureMaxWindowHours: ['capture-max-window-hours', 'STELLA_CAPTURE_MAX_WINDOW_HOURS', 'Widest forensic capture window in hours. Default 168.'],
  incidentWebhookUrl: ['incident-webhook-url', 'STELLA_INCIDENT_WEBHOOK_URL', 'Notify webhook for incident start/stop (CloudEvents 1.0 JSON).'],
  incidentWebhookSecret: ['incident-webhook-secret', 'STELLA_INCIDENT_WEBHOOK_SECRET', 'HMAC-SHA256 key for the webhook\'s `X-Stella-Signature` header.'],
  incidentWebhookMaxAttempts: ['incident-webhook-max-attempts', 'STELLA_INCIDENT_WEBHOOK_MAX_ATTEMPTS', 'Delivery attempts per webhook event. Default 6.'],
  incidentWebhookRetryBaseMs: ['incident-webhook-retry-base-ms', 'STELLA_INCIDENT_WEBHOOK_RETRY_BASE_MS', 'First retry delay in ms, doubling per attempt. Default 1000.'],
  incidentMaxTtlHours: ['incident-max-ttl-hours', 'STELLA_INCIDENT_MAX_TTL_HOURS', 'Longest incident TTL in hours. Default 72.'],
  incidentCooldownMinutes: ['incident-cooldown-minutes', 'STELLA_INCIDENT_COOLDOWN_MINUTES', 'Minutes after an incident ends during which automatic triggers cannot start another. Default 15.'],
  incidentCaptureLookbackMinutes: ['incident-capture-lookback-minutes', 'STELLA_INCIDENT_CAPTURE_LOOKBACK_MINUTES', 'Minutes before the start an incident\'s automatic capture covers. Default 60.'],
  incidentRetentionMarginHours: ['incident-retention-margin-hours', 'STELLA_INCIDENT_RETENTION_MARGIN_HOURS', 'Hours added on both sides of an incident window for extended retention. Default 24.'],
  prometheusUrl: ['prometheus-url', 'STELLA_PROMETHEUS_URL', 'Prometheus the metrics query and the SLO evaluator ask instead of the embedded store, e.g. `http://prometheus:9090`.'],
  prometheusTenantLabel: ['prometheus-tenant-label', 'STELLA_PROMETHEUS_TENANT_LABEL', 'The label that carries the tenant id on every Prometheus series. Default `stella_tenant_id`.'],
  prometheusTimeoutMs: ['prometheus-timeout-ms', 'STELLA_PROMETHEUS_TIMEOUT_MS', 'Longest wait for one Prometheus answer, in ms. Default 10000.'],
  obsMetricsMaxSeries: ['obs-metrics-max-series', 'STELLA_OBS_METRICS_MAX_SERIES', 'Most series one `/obs/metrics` answer holds; more is a 400. Default 500.'],
  obsMetricsMaxPoints: ['obs-metrics-max-points', 'STELLA_OBS_METRICS_MAX_POINTS', 'Most points per series one `/obs/metrics` answer holds; more is a 400. Default 11000.'],
  sloDir: ['slo-dir', 'STELLA_SLO_DIR', 'Directory (or file) of the OpenSLO SLOs the service evaluates. Default: the shipped deploy/slo.'],
  consoleDir: ['console-dir', 'STELLA_CONSOLE_DIR', 'Directory of the built Console, served at /console. Default: packages/console/dist of the repository (built by npm run build).'],
  sloEvaluationIntervalMs: ['slo-evaluation-interval-ms', 'STELLA_SLO_EVALUATION_INTERVAL_MS', 'How often the SLOs are evaluated for every tenant, in ms. Default 60000.'],
  sloIncidentBurnRate: ['slo-incident-burn-rate', 'STELLA_SLO_INCIDENT_BURN_RATE', 'Burn rate from which a page-level SLO breach switches incident mode on, or `off`. Default 14.4.'],
  sloIncidentTtlMinutes: ['slo-incident-ttl-minutes', 'STELLA_SLO_INCIDENT_TTL_MINUTES', 'TTL of the incident mode an SLO breach switches on, in minutes. Default 240.'],
  sloWebhooks: ['slo-webhooks', 'STELLA_SLO_WEBHOOKS', 'Webhooks called on SLO breaches: comma-separated URLs, each optionally prefixed `alertmanager:` or `cloudevents:` (the default).'],
  sloWebhookSecret: ['slo-webhook-secret', 'STELLA_SLO_WEBHOOK_SECRET', 'HMAC-SHA256 key for the breach webhooks\' `X-Stella-Signature` header.'],
  selfTenant: ['self-tenant', 'STELLA_SELF_TENANT', 'Tenant the service files its own traces and logs under; read them with `stella:obs:read#tenant/<it>`. Default `stella-ops`.'],
  selfTelemetry: ['self-telemetry', 'STELLA_SELF_TELEMETRY', 'Store the service\'s own traces and logs in its telemetry store, under --self-tenant. Default true.'],
  selfSamplingRatio: ['self-sampling-ratio', 'STELLA_SELF_SAMPLING_RATIO', 'Share of the service\'s own requests traced when the caller sends no `traceparent` (a caller\'s sampling decision is followed; failed and slow requests are kept anyway). Default 0.1.'],
  metricsPort: ['metrics-port', 'STELLA_METRICS_PORT', 'Port of a listener serving only `GET /metrics`, besides the API port\'s; absent → none.'],
  doraLeadTimeTargetHours: ['dora-lead-time-target-hours', 'STELLA_DORA_LEAD_TIME_TARGET_HOURS', 'DORA lead-time target in hours; each deployment over it counts in dora_slo_breach_total. Default 24.'],
  doraDeploymentFrequencyTargetPerDay: ['dora-deployment-frequency-target-per-day', 'STELLA_DORA_DEPLOYMENT_FREQUENCY_TARGET_PER_DAY', 'DORA deployment-frequency target per day; a window below it is reported as a breach. Default 1.'],
  doraChangeFailureRateTargetPercent: ['dora-change-failure-rate-target-percent', 'STELLA_DORA_CHANGE_FAILURE_RATE_TARGET_PERCENT', 'DORA change-failure-rate target in percent; a window above it is reported as a breach. Default 15.'],
  doraMttrTargetHours: ['dora-mttr-target-hours', 'STELLA_DORA_MTTR_TARGET_HOURS', 'DORA time-to-recovery target in hours; each resolved incident over it counts in dora_slo_breach_total. Default 1.'],
  doraGaugeWindowDays: ['dora-gauge-window-days', 'STELLA_DORA_GAUGE_WINDOW_DAYS', 'Trailing window of the DORA gauges on /metrics, in days. Default 30.'],
  doraGaugeIntervalMs: ['dora-gauge-interval-ms', 'STELLA_DORA_GAUGE_INTERVAL_MS', 'How often the DORA gauges are computed again for every tenant, in ms. Default 60000.'],
  federationKeysFile: ['federation-keys-file', 'STELLA_FEDERATION_KEYS_FILE', 'Federation key map {"keys": {"<keyid>": "<base64 secret>"}}; absent → <data dir>/federation/keys.json, made with one key on first use.'],
  federationSigningKeyId: ['federation-signing-key-id', 'STELLA_FEDERATION_SIGNING_KEY_ID', 'Key of the federation key map the service signs with; absent → the map\'s only key.'],
  federationMinArtifacts: ['federation-min-artifacts', 'STELLA_FEDERATION_MIN_ARTIFACTS', 'k: a bucket seen in fewer artifacts is left out of a federation bundle. Default 5.'],
  federationAllowUnsigned: ['federation-allow-unsigned', 'STELLA_FEDERATION_ALLOW_UNSIGNED', 'With no federation signing key, write unsigned envelopes tagged offline-unsigned-fallback instead of failing. Default false.'],
} as const satisfies Record<keyof ServiceConfig, readonly [flag: string, env: string, help: string]>;

/** What `--help` prints: every setting as its flag, environment variable and config-file key, with what it does. */
export function configHelp(): string {
  const lines = [
    'Usage: stella-observability [--<setting> <value>]...',
    '',
    'Every setting is a flag, an environment variable, or a key of the JSON file named by --config (STELLA_CONFIG);',
    'a flag wins over the environment, the environment over the file.',
    '',
  ];
  for (const [key, [flag, env, help]] of Object.entries(KEYS)) lines.push(`  --${flag}  ${env}  (file: ${key})`, `      ${help}`);
  return `${lines.join('\n')}\n`;
}

/** Parses `--name value`, `--name=value` and bare `--flag` (true). */
export function parseFlags(argv: readonly string[]): Source {
  const out: Source = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"; flags look like --port 8080`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      out[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        out[arg.slice(2)] = next;
        i++;
      } else out[arg.slice(2)] = 'true';
    }
  }
  return out;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function ratio(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${value}"`);
  return n;
}

/** A number above 0, at most `max`. */
function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new ConfigError(`${name} must be a number above 0 and at most ${max}, got "${value}"`);
  return n;
}

function bool(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off|)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

/**
 * Resolves the configuration. `argv` are the flags after the script name; `env` defaults to
 * `process.env`. Throws `ConfigError` naming the bad setting.
 */
export function resolveConfig(argv: readonly string[] = [], env: Source = process.env): ServiceConfig {
  const flags = parseFlags(argv);
  const known = new Set<string>(['config', ...Object.values(KEYS).map(([f]) => f)]);
  for (const name of Object.keys(flags)) {
    if (!known.has(name)) throw new ConfigError(`unknown flag --${name}; known: ${[...known].sort().map((k) => `--${k}`).join(', ')}`);
  }
  const configFile = flags['config'] ?? env['STELLA_CONFIG'];
  const file: Source = {};
  if (configFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (cause) {
      throw new ConfigError(`config file "${configFile}" could not be read as JSON: ${(cause as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file "${configFile}" must hold a JSON object`);
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (!(k in KEYS)) throw new ConfigError(`config file "${configFile}": unknown key "${k}"; keys are ${Object.keys(KEYS).join(', ')}`);
      file[k] = v === null || v === undefined ? undefined : String(v);
    }
  }
  const pick = (key: keyof ServiceConfig): string | undefined => {
    const [flag, envName] = KEYS[key];
    const value = flags[flag] ?? env[envName] ?? file[key];
    return value === '' ? undefined : value;
  };
  const config: ServiceConfig = {
    port: integer('STELLA_PORT', pick('port') ?? '8080', 0, 65535),
    host: pick('host') ?? '0.0.0.0',
    httpHeadersTimeoutMs: integer('STELLA_HTTP_HEADERS_TIMEOUT_MS', pick('httpHeadersTimeoutMs') ?? String(HTTP_TIMEOUT_DEFAULTS.headersMs), 100, 600_000),
    httpRequestTimeoutMs: integer('STELLA_HTTP_REQUEST_TIMEOUT_MS', pick('httpRequestTimeoutMs') ?? String(HTTP_TIMEOUT_DEFAULTS.requestMs), 100, 3_600_000),
    httpKeepAliveTimeoutMs: integer('STELLA_HTTP_KEEP_ALIVE_TIMEOUT_MS', pick('httpKeepAliveTimeoutMs') ?? String(HTTP_TIMEOUT_DEFAULTS.keepAliveMs), 100, 600_000),
    httpConnectionTimeoutMs: integer('STELLA_HTTP_CONNECTION_TIMEOUT_MS', pick('httpConnectionTimeoutMs') ?? String(HTTP_TIMEOUT_DEFAULTS.connectionMs), 100, 3_600_000),
    dataDir: resolve(pick('dataDir') ?? './.stella'),
    databaseUrl: pick('databaseUrl'),
    databaseOwnerUrl: pick('databaseOwnerUrl'),
    databaseAppRole: pick('databaseAppRole') ?? 'stella_app',
    databasePoolSize: integer('STELLA_DATABASE_POOL_SIZE', pick('databasePoolSize') ?? '10', 1, 200),
    natsUrl: pick('natsUrl'),
    natsStream: pick('natsStream') ?? 'STELLA',
    subjectPrefix: pick('subjectPrefix') ?? 'stella',
    indexerDurable: pick('indexerDurable') ?? 'stella-timeline-indexer',
    sealed: bool('STELLA_SEALED', pick('sealed') ?? 'false'),
    authJwksUrl: pick('authJwksUrl'),
    authJwksFile: pick('authJwksFile'),
    authIssuer: pick('authIssuer'),
    authAudience: pick('authAudience') ?? 'stella-observability',
    timelineRetentionDays: integer('STELLA_TIMELINE_RETENTION_DAYS', pick('timelineRetentionDays') ?? '180', 1, 3650),
    retentionIntervalMs: integer('STELLA_RETENTION_INTERVAL_MS', pick('retentionIntervalMs') ?? '3600000', 1000, 86_400_000),
    logLevel: pick('logLevel') ?? 'info',
    otlpHttpPort: integer('STELLA_OTLP_HTTP_PORT', pick('otlpHttpPort') ?? '4318', 0, 65535),
    otlpGrpcPort: integer('STELLA_OTLP_GRPC_PORT', pick('otlpGrpcPort') ?? '4317', 0, 65535),
    otlpMaxMessageBytes: integer('STELLA_OTLP_MAX_MESSAGE_BYTES', pick('otlpMaxMessageBytes') ?? '16777216', 1024, 1 << 30),
    otlpMaxInflightBytes: integer('STELLA_OTLP_MAX_INFLIGHT_BYTES', pick('otlpMaxInflightBytes') ?? '134217728', 1 << 20, 2 ** 34),
    otlpMaxItemsPerRequest: integer('STELLA_OTLP_MAX_ITEMS_PER_REQUEST', pick('otlpMaxItemsPerRequest') ?? '100000', 1, 10_000_000),
    otlpMaxAttributesPerRequest: integer('STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST', pick('otlpMaxAttributesPerRequest') ?? '500000', 1, 100_000_000),
    otlpPrepareWorkers: pick('otlpPrepareWorkers') === undefined ? undefined : integer('STELLA_OTLP_PREPARE_WORKERS', pick('otlpPrepareWorkers')!, 0, 256),
    otlpTenantRecordsPerSec: integer('STELLA_OTLP_TENANT_RECORDS_PER_SEC', pick('otlpTenantRecordsPerSec') ?? '200000', 1, 1e9),
    otlpTenantBytesPerSec: integer('STELLA_OTLP_TENANT_BYTES_PER_SEC', pick('otlpTenantBytesPerSec') ?? '67108864', 1024, 2 ** 40),
    telemetryTracesRetentionDays: integer('STELLA_TELEMETRY_TRACES_RETENTION_DAYS', pick('telemetryTracesRetentionDays') ?? '7', 1, 3650),
    telemetryLogsRetentionDays: integer('STELLA_TELEMETRY_LOGS_RETENTION_DAYS', pick('telemetryLogsRetentionDays') ?? '7', 1, 3650),
    telemetryMetricsRetentionDays: integer('STELLA_TELEMETRY_METRICS_RETENTION_DAYS', pick('telemetryMetricsRetentionDays') ?? '30', 1, 3650),
    segmentSealIntervalMs: integer('STELLA_SEGMENT_SEAL_INTERVAL_MS', pick('segmentSealIntervalMs') ?? '60000', 1000, 3_600_000),
    segmentsDir: resolve(pick('segmentsDir') ?? join(resolve(pick('dataDir') ?? './.stella'), 'telemetry', 'segments')),
    replicaId: pick('replicaId'),
    leaderPollMs: integer('STELLA_LEADER_POLL_MS', pick('leaderPollMs') ?? '2000', 100, 60_000),
    obsMaxWindowHours: integer('STELLA_OBS_MAX_WINDOW_HOURS', pick('obsMaxWindowHours') ?? '24', 1, 24 * 90),
    obsMaxResults: integer('STELLA_OBS_MAX_RESULTS', pick('obsMaxResults') ?? '1000', 1, 100_000),
    traceDeepLink: pick('traceDeepLink'),
    captureMaxWindowHours: integer('STELLA_CAPTURE_MAX_WINDOW_HOURS', pick('captureMaxWindowHours') ?? '168', 1, 24 * 366),
    incidentWebhookUrl: pick('incidentWebhookUrl'),
    incidentWebhookSecret: pick('incidentWebhookSecret'),
    incidentWebhookMaxAttempts: integer('STELLA_INCIDENT_WEBHOOK_MAX_ATTEMPTS', pick('incidentWebhookMaxAttempts') ?? '6', 1, 20),
    incidentWebhookRetryBaseMs: integer('STELLA_INCIDENT_WEBHOOK_RETRY_BASE_MS', pick('incidentWebhookRetryBaseMs') ?? '1000', 1, 600_000),
    incidentMaxTtlHours: integer('STELLA_INCIDENT_MAX_TTL_HOURS', pick('incidentMaxTtlHours') ?? '72', 1, 24 * 30),
    incidentCooldownMinutes: integer('STELLA_INCIDENT_COOLDOWN_MINUTES', pick('incidentCooldownMinutes') ?? '15', 0, 24 * 60),
    incidentCaptureLookbackMinutes: integer('STELLA_INCIDENT_CAPTURE_LOOKBACK_MINUTES', pick('incidentCaptureLookbackMinutes') ?? '60', 1, 24 * 60 * 7),
    incidentRetentionMarginHours: integer('STELLA_INCIDENT_RETENTION_MARGIN_HOURS', pick('incidentRetentionMarginHours') ?? '24', 0, 24 * 365),
    prometheusUrl: pick('prometheusUrl'),
    prometheusTenantLabel: pick('prometheusTenantLabel') ?? 'stella_tenant_id',
    prometheusTimeoutMs: integer('STELLA_PROMETHEUS_TIMEOUT_MS', pick('prometheusTimeoutMs') ?? '10000', 100, 600_000),
    obsMetricsMaxSeries: integer('STELLA_OBS_METRICS_MAX_SERIES', pick('obsMetricsMaxSeries') ?? '500', 1, 100_000),
    obsMetricsMaxPoints: integer('STELLA_OBS_METRICS_MAX_POINTS', pick('obsMetricsMaxPoints') ?? '11000', 2, 11_000),
    sloDir: resolve(pick('sloDir') ?? fileURLToPath(new URL('../../../deploy/slo/', import.meta.url))),
    consoleDir: resolve(pick('consoleDir') ?? fileURLToPath(new URL('../../console/dist/', import.meta.url))),
    sloEvaluationIntervalMs: integer('STELLA_SLO_EVALUATION_INTERVAL_MS', pick('sloEvaluationIntervalMs') ?? '60000', 1000, 3_600_000),
    sloIncidentBurnRate: burnRate('STELLA_SLO_INCIDENT_BURN_RATE', pick('sloIncidentBurnRate') ?? '14.4'),
    sloIncidentTtlMinutes: integer('STELLA_SLO_INCIDENT_TTL_MINUTES', pick('sloIncidentTtlMinutes') ?? '240', 1, 24 * 60 * 30),
    sloWebhooks: sloWebhooks(pick('sloWebhooks')),
    sloWebhookSecret: pick('sloWebhookSecret'),
    selfTenant: pick('selfTenant') ?? 'stella-ops',
    selfTelemetry: bool('STELLA_SELF_TELEMETRY', pick('selfTelemetry') ?? 'true'),
    selfSamplingRatio: ratio('STELLA_SELF_SAMPLING_RATIO', pick('selfSamplingRatio') ?? '0.1'),
    metricsPort: pick('metricsPort') === undefined ? undefined : integer('STELLA_METRICS_PORT', pick('metricsPort')!, 0, 65535),
    doraLeadTimeTargetHours: positive('STELLA_DORA_LEAD_TIME_TARGET_HOURS', pick('doraLeadTimeTargetHours') ?? '24', 24 * 3650),
    doraDeploymentFrequencyTargetPerDay: positive('STELLA_DORA_DEPLOYMENT_FREQUENCY_TARGET_PER_DAY', pick('doraDeploymentFrequencyTargetPerDay') ?? '1', 10_000),
    doraChangeFailureRateTargetPercent: positive('STELLA_DORA_CHANGE_FAILURE_RATE_TARGET_PERCENT', pick('doraChangeFailureRateTargetPercent') ?? '15', 100),
    doraMttrTargetHours: positive('STELLA_DORA_MTTR_TARGET_HOURS', pick('doraMttrTargetHours') ?? '1', 24 * 3650),
    doraGaugeWindowDays: integer('STELLA_DORA_GAUGE_WINDOW_DAYS', pick('doraGaugeWindowDays') ?? '30', 1, 366),
    doraGaugeIntervalMs: integer('STELLA_DORA_GAUGE_INTERVAL_MS', pick('doraGaugeIntervalMs') ?? '60000', 1000, 3_600_000),
    federationKeysFile: pick('federationKeysFile') === undefined ? undefined : resolve(pick('federationKeysFile')!),
    federationSigningKeyId: pick('federationSigningKeyId'),
    federationMinArtifacts: integer('STELLA_FEDERATION_MIN_ARTIFACTS', pick('federationMinArtifacts') ?? '5', 1, 1_000_000),
    federationAllowUnsigned: bool('STELLA_FEDERATION_ALLOW_UNSIGNED', pick('federationAllowUnsigned') ?? 'false'),
  };
  if (!isValidTenantId(config.selfTenant)) throw new ConfigError(tenantIdProblem(`STELLA_SELF_TENANT "${config.selfTenant}"`));
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new ConfigError(
      `STELLA_HTTP_HEADERS_TIMEOUT_MS (${config.httpHeadersTimeoutMs}) must not exceed STELLA_HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs}): the headers are part of the request`,
    );
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.databaseAppRole)) {
    throw new ConfigError('STELLA_DATABASE_APP_ROLE must be a lower-case SQL identifier');
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.natsStream)) throw new ConfigError('STELLA_NATS_STREAM must be letters, digits, "_" or "-"');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(config.subjectPrefix)) {
    throw new ConfigError('STELLA_SUBJECT_PREFIX must be dot-separated tokens of letters, digits, "_" or "-"');
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.indexerDurable)) throw new ConfigError('STELLA_INDEXER_DURABLE must be letters, digits, "_" or "-"');
  if (config.authJwksUrl && config.authJwksFile) throw new ConfigError('set STELLA_AUTH_JWKS_URL or STELLA_AUTH_JWKS_FILE, not both');
  if (config.authJwksUrl) {
    let url: URL;
    try {
      url = new URL(config.authJwksUrl);
    } catch {
      throw new ConfigError(`STELLA_AUTH_JWKS_URL "${config.authJwksUrl}" is not a URL`);
    }
    if (config.sealed && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      throw new ConfigError('the installation is sealed: STELLA_AUTH_JWKS_URL must be a loopback address; use STELLA_AUTH_JWKS_FILE for an offline JWKS');
    }
  }
  if (config.replicaId !== undefined && !REPLICA_ID_RE.test(config.replicaId)) {
    throw new ConfigError(`STELLA_REPLICA_ID "${config.replicaId}" must be letters, digits, "_" and "-", at most 63, starting with a letter or digit`);
  }
  if (config.traceDeepLink !== undefined && !config.traceDeepLink.includes('{trace_id}')) {
    throw new ConfigError('STELLA_TRACE_DEEP_LINK must contain "{trace_id}", e.g. https://tempo.example/trace/{trace_id}');
  }
  if (config.incidentWebhookUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.incidentWebhookUrl);
    } catch {
      throw new ConfigError(`STELLA_INCIDENT_WEBHOOK_URL "${config.incidentWebhookUrl}" is not a URL`);
    }
    if (config.sealed && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      throw new ConfigError('the installation is sealed: STELLA_INCIDENT_WEBHOOK_URL must be a loopback address');
    }
    if (!config.incidentWebhookSecret) throw new ConfigError('STELLA_INCIDENT_WEBHOOK_URL needs STELLA_INCIDENT_WEBHOOK_SECRET to sign deliveries');
  }
  checkMetricsAndSloSettings(config);
  if (config.authJwksFile) config.authJwksFile = resolve(config.authJwksFile);
  return config;
}

/** A webhook SLO breaches are posted to, and in which format. */
export interface SloWebhook {
  format: 'alertmanager' | 'cloudevents';
  url: string;
}

function burnRate(name: string, value: string): number | undefined {
  if (/^(off|none)$/i.test(value.trim())) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 1 || n > 1000) throw new ConfigError(`${name} must be a burn rate from 1 to 1000 or "off", got "${value}"`);
  return n;
}

function sloWebhooks(value: string | undefined): SloWebhook[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const m = /^(alertmanager|cloudevents):(.*)$/.exec(entry);
      const hook: SloWebhook = m ? { format: m[1] as SloWebhook['format'], url: m[2]! } : { format: 'cloudevents', url: entry };
      try {
        new URL(hook.url);
      } catch {
        throw new ConfigError(`STELLA_SLO_WEBHOOKS: "${hook.url}" is not a URL (entries are [alertmanager:|cloudevents:]<url>, comma-separated)`);
      }
      return hook;
    });
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

function checkMetricsAndSloSettings(config: ServiceConfig): void {
  if (config.prometheusUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.prometheusUrl);
    } catch {
      throw new ConfigError(`STELLA_PROMETHEUS_URL "${config.prometheusUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('STELLA_PROMETHEUS_URL must be an http or https URL');
  }
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(config.prometheusTenantLabel)) throw new ConfigError('STELLA_PROMETHEUS_TENANT_LABEL must be a Prometheus label name');
  if (config.sloIncidentTtlMinutes > config.incidentMaxTtlHours * 60) {
    throw new ConfigError(`STELLA_SLO_INCIDENT_TTL_MINUTES (${config.sloIncidentTtlMinutes}) must not exceed STELLA_INCIDENT_MAX_TTL_HOURS (${config.incidentMaxTtlHours} h)`);
  }
  if (config.sloWebhooks.length > 0 && !config.sloWebhookSecret) throw new ConfigError('STELLA_SLO_WEBHOOKS needs STELLA_SLO_WEBHOOK_SECRET to sign deliveries');
  if (config.sealed) {
    for (const hook of config.sloWebhooks) {
      if (!LOOPBACK.includes(new URL(hook.url).hostname)) throw new ConfigError(`the installation is sealed: the SLO webhook ${hook.url} must be a loopback address`);
    }
  }
}
