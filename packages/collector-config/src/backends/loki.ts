/**
 * Loki (3.x, single binary) for a profile: OTLP ingestion (the Collector's `otlphttp/loki`
 * exporter), chunks that are immutable once flushed and only ever removed by the compactor's
 * retention, and retention tiers by stream — warm for every stream, hot and cold for streams
 * whose resource carries `stella.retention=hot|cold` (indexed as the `stella_retention` label).
 * Everything on loopback; usage reporting off.
 */
import { posix } from 'node:path';
import type { YamlMap } from '../profiles/collector-config.js';
import { canonicalYaml } from '../profiles/yaml.js';
import type { BackendsModel } from './model.js';
import { BACKEND_PORTS } from './options.js';

/** Resource attribute choosing a stream's retention tier; Loki indexes it as `stella_retention`. */
export const LOKI_TIER_ATTRIBUTE = 'stella.retention';

export function lokiConfig(model: BackendsModel): YamlMap {
  const l = model.loki;
  const r = model.retention;
  const host = model.listenHost;
  const s3 = l.storage.backend === 's3';
  const storage: YamlMap =
    l.storage.backend === 's3'
      ? {
          s3: {
            bucketnames: l.storage.bucket,
            endpoint: l.storage.endpoint,
            region: l.storage.region ?? 'us-east-1',
            insecure: l.storage.insecure ?? false,
            s3forcepathstyle: l.storage.forcePathStyle ?? true,
          },
        }
      : { filesystem: { chunks_directory: posix.join(l.dataDir, 'chunks'), rules_directory: posix.join(l.dataDir, 'rules') } };
  return {
    auth_enabled: false,
    server: { http_listen_address: host, http_listen_port: BACKEND_PORTS.lokiHttp, grpc_listen_address: host, grpc_listen_port: BACKEND_PORTS.lokiGrpc, log_level: 'info' },
    common: {
      instance_addr: host === '0.0.0.0' ? '127.0.0.1' : host,
      path_prefix: l.dataDir,
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage,
    },
    schema_config: {
      configs: [{ from: '2024-04-01', store: 'tsdb', object_store: s3 ? 's3' : 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }],
    },
    ingester: { chunk_idle_period: '30m', max_chunk_age: '2h' },
    limits_config: {
      allow_structured_metadata: true,
      retention_period: `${r.loki * 24}h`,
      retention_stream: [
        { selector: '{stella_retention="hot"}', priority: 1, period: `${r.lokiHot * 24}h` },
        { selector: '{stella_retention="cold"}', priority: 2, period: `${r.lokiCold * 24}h` },
      ],
      otlp_config: { resource_attributes: { attributes_config: [{ action: 'index_label', attributes: [LOKI_TIER_ATTRIBUTE] }] } },
    },
    compactor: {
      working_directory: posix.join(l.dataDir, 'compactor'),
      compaction_interval: '10m',
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: s3 ? 's3' : 'filesystem',
    },
    analytics: { reporting_enabled: false },
  };
}

export function lokiYaml(model: BackendsModel, header: readonly string[]): string {
  return canonicalYaml(lokiConfig(model), header, ['auth_enabled', 'server', 'common', 'schema_config', 'ingester', 'limits_config', 'compactor', 'analytics']);
}
