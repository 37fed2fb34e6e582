/**
 * Tempo (2.x, single binary) for a profile: the OTLP/gRPC receiver the Collector's
 * `otlp/tempo` exporter sends to, block retention, filesystem or S3 block storage, everything
 * on loopback, and usage reporting off (it would call out of the installation).
 */
import { posix } from 'node:path';
import type { YamlMap } from '../profiles/collector-config.js';
import { canonicalYaml } from '../profiles/yaml.js';
import type { BackendsModel } from './model.js';
import { BACKEND_PORTS } from './options.js';

export function tempoConfig(model: BackendsModel): YamlMap {
  const t = model.tempo;
  const host = model.listenHost;
  const trace: YamlMap = { wal: { path: posix.join(t.dataDir, 'wal') } };
  if (t.storage.backend === 's3') {
    trace['backend'] = 's3';
    trace['s3'] = {
      bucket: t.storage.bucket,
      endpoint: t.storage.endpoint,
      region: t.storage.region ?? 'us-east-1',
      insecure: t.storage.insecure ?? false,
      forcepathstyle: t.storage.forcePathStyle ?? true,
    };
  } else {
    trace['backend'] = 'local';
    trace['local'] = { path: posix.join(t.dataDir, 'blocks') };
  }
  return {
    stream_over_http_enabled: true,
    server: { http_listen_address: host, http_listen_port: BACKEND_PORTS.tempoHttp, grpc_listen_address: host, grpc_listen_port: BACKEND_PORTS.tempoGrpc, log_level: 'info' },
    memberlist: { bind_addr: [host === '0.0.0.0' ? '127.0.0.1' : host] },
    distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: `${host.includes(':') ? `[${host}]` : host}:${BACKEND_PORTS.tempoOtlpGrpc}` } } } } },
    ingester: { max_block_duration: '5m' },
    compactor: { compaction: { block_retention: `${model.retention.tempo * 24}h` } },
    storage: { trace },
    usage_report: { reporting_enabled: false },
  };
}

export function tempoYaml(model: BackendsModel, header: readonly string[]): string {
  return canonicalYaml(tempoConfig(model), header, ['stream_over_http_enabled', 'server', 'memberlist', 'distributor', 'ingester', 'compactor', 'storage', 'usage_report']);
}
