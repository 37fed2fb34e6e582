/**
 * The OpenTelemetry Collector configuration of a profile: the typed model turned into the
 * sections the Collector reads (`receivers`, `processors`, `exporters`, `extensions`,
 * `service`). Plain data; yaml.ts writes it.
 */
import type { Signal } from './distribution.js';
import type { ClientTls, CollectorProfile, ExporterModel, ServerTls } from './model.js';

export type YamlValue = string | number | boolean | null | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export interface PipelineConfig {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}

/** A Collector configuration: component sections keyed by component id, and the service. */
export interface CollectorConfig {
  receivers?: Record<string, YamlMap | null>;
  processors?: Record<string, YamlMap | null>;
  exporters?: Record<string, YamlMap | null>;
  extensions?: Record<string, YamlMap | null>;
  connectors?: Record<string, YamlMap | null>;
  service: {
    extensions?: string[];
    pipelines: Record<string, PipelineConfig>;
    telemetry?: YamlMap;
  };
}

/** Ids of the processors every profile declares, in pipeline order. */
export const PROCESSOR_IDS = Object.freeze({
  memoryLimiter: 'memory_limiter',
  resourceDetection: 'resourcedetection',
  redaction: 'redaction/policy',
  transform: 'transform/policy',
  tailSampling: 'tail_sampling',
  batch: 'batch',
});

/** Attribute telemetry-core sets on spans its head sampler keeps for incident mode. */
export const INCIDENT_SAMPLING_ATTRIBUTE = 'stella.sampling.reason';

function serverTls(tls: ServerTls): YamlMap {
  const out: YamlMap = { cert_file: tls.certFile, key_file: tls.keyFile, min_version: tls.minVersion };
  if (tls.clientCaFile !== undefined) out['client_ca_file'] = tls.clientCaFile;
  return out;
}

function clientTls(tls: ClientTls): YamlMap | undefined {
  if (tls === 'plaintext') return undefined;
  const out: YamlMap = { insecure: false };
  if (tls.caFile !== undefined) out['ca_file'] = tls.caFile;
  if (tls.certFile !== undefined) out['cert_file'] = tls.certFile;
  if (tls.keyFile !== undefined) out['key_file'] = tls.keyFile;
  if (tls.serverName !== undefined) out['server_name_override'] = tls.serverName;
  return out;
}

function retry(forensic: boolean): YamlMap {
  // The forensic profile never gives up on a batch while its queue has room.
  return { enabled: true, initial_interval: '5s', max_interval: '30s', max_elapsed_time: forensic ? '0s' : '300s' };
}

function exporterConfig(e: ExporterModel, profile: CollectorProfile): YamlMap {
  const forensic = profile.name === 'forensic';
  switch (e.backend) {
    case 'tempo': {
      // gRPC reaches a plaintext loopback Tempo only with `insecure: true`.
      const tls = clientTls(e.tls) ?? { insecure: true };
      return {
        endpoint: e.endpoint,
        tls,
        compression: 'gzip',
        sending_queue: { enabled: true, queue_size: e.queue.queueSize, ...(e.queue.persistent ? { storage: 'file_storage/queue' } : {}) },
        retry_on_failure: retry(forensic),
      };
    }
    case 'prometheus': {
      const out: YamlMap = {
        endpoint: e.endpoint,
        remote_write_queue: { enabled: true, queue_size: e.queueSize, num_consumers: 5 },
        retry_on_failure: retry(forensic),
      };
      const tls = clientTls(e.tls);
      if (tls) out['tls'] = tls;
      return out;
    }
    case 'loki': {
      const out: YamlMap = {
        endpoint: e.endpoint,
        sending_queue: { enabled: true, queue_size: e.queue.queueSize, ...(e.queue.persistent ? { storage: 'file_storage/queue' } : {}) },
        retry_on_failure: retry(forensic),
      };
      const tls = clientTls(e.tls);
      if (tls) out['tls'] = tls;
      return out;
    }
    case 'file':
      return {
        path: e.path,
        format: 'json',
        flush_interval: '1s',
        rotation: { max_megabytes: e.maxMegabytes, max_days: e.retentionDays, max_backups: 0, localtime: false },
      };
  }
}

function probabilistic(name: string, percent: number): YamlMap {
  return { name, type: 'probabilistic', probabilistic: { sampling_percentage: percent } };
}

function tailSampling(profile: CollectorProfile): YamlMap {
  const s = profile.sampling;
  const policies: YamlMap[] = [
    { name: 'incident-mode', type: 'string_attribute', string_attribute: { key: INCIDENT_SAMPLING_ATTRIBUTE, values: ['incident'] } },
  ];
  const errors: YamlMap = { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } };
  const errorParts: YamlMap[] = [];
  if (s.errorsPercent < 100) errorParts.push(probabilistic('errors-share', s.errorsPercent));
  if (s.errorsSpansPerSecond !== undefined) errorParts.push({ name: 'errors-cap', type: 'rate_limiting', rate_limiting: { spans_per_second: s.errorsSpansPerSecond } });
  if (s.errorsPercent > 0) {
    policies.push(errorParts.length === 0 ? errors : { name: 'errors', type: 'and', and: { and_sub_policy: [{ ...errors, name: 'errors-status' }, ...errorParts] } });
  }
  policies.push({ name: 'slow', type: 'latency', latency: { threshold_ms: s.latencyThresholdMs } });
  for (const [service, percent] of Object.entries(s.services).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (percent <= 0) continue;
    const match: YamlMap = { name: `service-${service}`, type: 'string_attribute', string_attribute: { key: 'service.name', values: [service] } };
    policies.push(percent >= 100 ? match : { name: `service-${service}`, type: 'and', and: { and_sub_policy: [{ ...match, name: 'service' }, probabilistic('share', percent)] } });
  }
  if (s.baselinePercent > 0) policies.push(probabilistic('baseline', s.baselinePercent));
  return {
    decision_wait: s.decisionWait,
    num_traces: s.numTraces,
    expected_new_traces_per_sec: s.expectedNewTracesPerSec,
    policies,
  };
}

function truncateStatements(limit: number): YamlMap {
  const truncate = `truncate_all(attributes, ${limit})`;
  const ctx = (context: string): YamlMap => ({ context, statements: [truncate] });
  return {
    error_mode: 'ignore',
    trace_statements: [ctx('resource'), ctx('span'), ctx('spanevent')],
    metric_statements: [ctx('resource'), ctx('datapoint')],
    log_statements: [ctx('resource'), ctx('log')],
  };
}

/** The Collector configuration of a profile model. */
export function collectorConfig(profile: CollectorProfile): CollectorConfig {
  const r = profile.receiver;
  const grpc: YamlMap = { endpoint: r.grpcEndpoint };
  const http: YamlMap = { endpoint: r.httpEndpoint };
  if (r.tls) {
    grpc['tls'] = serverTls(r.tls);
    http['tls'] = serverTls(r.tls);
  }

  const red = profile.redaction;
  const processors: Record<string, YamlMap> = {
    [PROCESSOR_IDS.memoryLimiter]: {
      check_interval: profile.memoryLimiter.checkInterval,
      limit_percentage: profile.memoryLimiter.limitPercentage,
      spike_limit_percentage: profile.memoryLimiter.spikeLimitPercentage,
    },
    [PROCESSOR_IDS.resourceDetection]: {
      detectors: [...profile.resourceDetection.detectors],
      timeout: profile.resourceDetection.timeout,
      override: false,
      system: { hostname_sources: ['os'] },
    },
    [PROCESSOR_IDS.redaction]: {
      allow_all_keys: true,
      ignored_keys: [...red.ignoredKeys],
      blocked_key_patterns: [...red.blockedKeyPatterns],
      blocked_values: red.blockedValues.map((v) => v.pattern),
      summary: 'info',
    },
    [PROCESSOR_IDS.transform]: truncateStatements(red.maxStringLength),
    [PROCESSOR_IDS.tailSampling]: tailSampling(profile),
    [PROCESSOR_IDS.batch]: {
      send_batch_size: profile.batch.sendBatchSize,
      send_batch_max_size: profile.batch.sendBatchMaxSize,
      timeout: profile.batch.timeout,
    },
  };

  const exporters: Record<string, YamlMap> = {};
  for (const e of profile.exporters) exporters[e.id] = exporterConfig(e, profile);

  const extensions: Record<string, YamlMap> = { health_check: { endpoint: profile.healthCheckEndpoint } };
  if (profile.queueDirectory !== undefined) extensions['file_storage/queue'] = { directory: profile.queueDirectory, create_directory: true };

  const common = [PROCESSOR_IDS.memoryLimiter, PROCESSOR_IDS.resourceDetection, PROCESSOR_IDS.redaction, PROCESSOR_IDS.transform];
  const pipeline = (signal: Signal): PipelineConfig => ({
    receivers: ['otlp'],
    processors: signal === 'traces' ? [...common, PROCESSOR_IDS.tailSampling, PROCESSOR_IDS.batch] : [...common, PROCESSOR_IDS.batch],
    exporters: profile.exporters.filter((e) => e.signal === signal).map((e) => e.id),
  });

  return {
    receivers: { otlp: { protocols: { grpc, http } } },
    processors,
    exporters,
    extensions,
    service: {
      extensions: Object.keys(extensions),
      pipelines: { traces: pipeline('traces'), metrics: pipeline('metrics'), logs: pipeline('logs') },
      telemetry: {
        logs: { level: 'info', encoding: 'json' },
        metrics: { level: 'normal', readers: [{ pull: { exporter: { prometheus: { host: profile.selfMetrics.host, port: profile.selfMetrics.port } } } }] },
      },
    },
  };
}
