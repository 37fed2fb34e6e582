/**
 * Backend configs per profile (STO-1): retention (Prometheus' as flags), scrape jobs and rule
 * files, the remote-write allowlist and sealed mode, Tempo and Loki storage and tiers; every
 * Prometheus config passes `promtool check config` (CI=true requires promtool), Tempo and Loki
 * configs their own binaries' checks when those are on PATH.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BACKEND_PORTS,
  ProfileError,
  PROFILE_NAMES,
  renderBackends,
  renderProfile,
  STELLAOPS_SCRAPE_JOBS,
  type BackendFile,
  type ProfileName,
  type RenderBackendsOptions,
} from '../../src/index.ts';
import { binaryOnPath, run, tempDir } from '../helpers/binaries.ts';
import { promtool, requirePromtool } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';

const RULES_DIR = join(REPO_ROOT, 'deploy/rules');

function file(files: BackendFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path}`);
  return f.content;
}

function yamlOf(files: BackendFile[], path: string): Record<string, unknown> {
  return parse(file(files, path)) as Record<string, unknown>;
}

function refusal(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return err as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

/** Writes a profile's backend files under a fresh directory; returns it. */
function written(name: ProfileName, options: RenderBackendsOptions): string {
  const dir = tempDir(`backends-${name}-`);
  for (const f of renderBackends(name, options).files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
  }
  return dir;
}

describe('renderBackends', () => {
  it.each(PROFILE_NAMES)('%s: four files, byte-identical on every render', (name) => {
    const a = renderBackends(name);
    expect(a.files.map((f) => f.path)).toEqual(['prometheus/prometheus.yml', 'prometheus/prometheus.args', 'tempo/tempo.yaml', 'loki/loki.yaml']);
    expect(renderBackends(name).files).toEqual(a.files);
  });

  it.each<[ProfileName, number]>([
    ['default', 30],
    ['forensic', 180],
    ['airgap', 30],
  ])('%s keeps metrics and traces %i days, and logs that long in the warm tier', (name, days) => {
    const { files } = renderBackends(name);
    expect(file(files, 'prometheus/prometheus.args').split('\n')).toContain(`--storage.tsdb.retention.time=${days}d`);
    expect((yamlOf(files, 'tempo/tempo.yaml')['compactor'] as { compaction: { block_retention: string } }).compaction.block_retention).toBe(`${days * 24}h`);
    const limits = yamlOf(files, 'loki/loki.yaml')['limits_config'] as Record<string, unknown>;
    expect(limits['retention_period']).toBe(`${days * 24}h`);
    expect(limits['retention_stream']).toEqual([
      { selector: '{stella_retention="hot"}', priority: 1, period: '168h' },
      { selector: '{stella_retention="cold"}', priority: 2, period: '8760h' },
    ]);
  });

  it('Prometheus flags: storage path, retention, loopback listener, exemplars; the remote-write receiver except in airgap', () => {
    expect(file(renderBackends('default').files, 'prometheus/prometheus.args')).toBe(
      [
        '--storage.tsdb.path=/var/lib/stellaops/prometheus/default',
        '--storage.tsdb.retention.time=30d',
        '--web.listen-address=127.0.0.1:9090',
        '--enable-feature=exemplar-storage',
        '--web.enable-remote-write-receiver',
        '',
      ].join('\n'),
    );
    expect(file(renderBackends('airgap').files, 'prometheus/prometheus.args')).not.toContain('remote-write-receiver');
  });

  it('scrapes every StellaOps service as a job of its own name (file_sd targets), the service\'s /metrics, the Collector and the backends, with the SLO and alert rules', () => {
    const prom = yamlOf(renderBackends('default').files, 'prometheus/prometheus.yml');
    const jobs = prom['scrape_configs'] as { job_name: string; static_configs?: { targets: string[] }[]; file_sd_configs?: { files: string[] }[] }[];
    expect(jobs.map((j) => j.job_name)).toEqual([...STELLAOPS_SCRAPE_JOBS, 'otelcol', 'prometheus', 'tempo', 'loki']);
    expect(jobs[0]).toEqual({ job_name: 'stella-observability', static_configs: [{ targets: ['127.0.0.1:8080'] }], file_sd_configs: [{ files: ['targets/stella-observability.json'] }] });
    expect(jobs.find((j) => j.job_name === 'otelcol')!.static_configs).toEqual([{ targets: ['127.0.0.1:8888'] }]);
    expect(prom['rule_files']).toEqual(['../../../rules/slo-rules.yaml', '../../../rules/stella-alerts.yaml']);
    expect(prom['alerting']).toEqual({ alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:9093'] }] }] });
    expect(prom['remote_write']).toBeUndefined();
  });

  it('scrapes exactly the services the shipped SLOs are about', () => {
    const services = new Set<string>();
    for (const f of readdirSync(join(REPO_ROOT, 'deploy/slo'))) {
      for (const m of readFileSync(join(REPO_ROOT, 'deploy/slo', f), 'utf8').matchAll(/^ {2}service: (\S+)$/gm)) services.add(m[1]!);
    }
    expect([...STELLAOPS_SCRAPE_JOBS].sort()).toEqual([...services].sort());
  });

  it('listens where the Collector profiles send: Tempo OTLP/gRPC, Prometheus remote write, Loki OTLP', () => {
    const { config } = renderProfile('default');
    const { files } = renderBackends('default');
    const tempo = yamlOf(files, 'tempo/tempo.yaml') as { distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } } };
    expect(tempo.distributor.receivers.otlp.protocols.grpc.endpoint).toBe((config.exporters!['otlp/tempo'] as { endpoint: string }).endpoint);
    expect((config.exporters!['prometheusremotewrite'] as { endpoint: string }).endpoint).toBe(`http://127.0.0.1:${BACKEND_PORTS.prometheus}/api/v1/write`);
    const loki = yamlOf(files, 'loki/loki.yaml') as { server: { http_listen_port: number } };
    expect((config.exporters!['otlphttp/loki'] as { endpoint: string }).endpoint).toBe(`http://127.0.0.1:${loki.server.http_listen_port}/otlp`);
  });

  it('Tempo and Loki stay on loopback and never report usage out of the installation', () => {
    for (const name of PROFILE_NAMES) {
      const { files } = renderBackends(name);
      const tempo = yamlOf(files, 'tempo/tempo.yaml');
      const loki = yamlOf(files, 'loki/loki.yaml');
      expect(tempo['usage_report']).toEqual({ reporting_enabled: false });
      expect(loki['analytics']).toEqual({ reporting_enabled: false });
      expect(tempo['server']).toMatchObject({ http_listen_address: '127.0.0.1', grpc_listen_address: '127.0.0.1' });
      expect(loki['server']).toMatchObject({ http_listen_address: '127.0.0.1', grpc_listen_address: '127.0.0.1' });
      expect(loki['limits_config']).toMatchObject({
        allow_structured_metadata: true,
        otlp_config: { resource_attributes: { attributes_config: [{ action: 'index_label', attributes: ['stella.retention'] }] } },
      });
      expect(loki['compactor']).toMatchObject({ retention_enabled: true });
    }
  });

  it('puts Tempo blocks and Loki chunks on an S3-compatible store when asked, credentials from the environment', () => {
    const s3 = { backend: 's3' as const, bucket: 'stella-traces', endpoint: 's3.obs.corp:9000' };
    const { files } = renderBackends('forensic', { tempoStorage: s3, lokiStorage: { ...s3, bucket: 'stella-logs' } });
    expect((yamlOf(files, 'tempo/tempo.yaml')['storage'] as { trace: unknown }).trace).toEqual({
      backend: 's3',
      s3: { bucket: 'stella-traces', endpoint: 's3.obs.corp:9000', region: 'us-east-1', insecure: false, forcepathstyle: true },
      wal: { path: '/var/lib/stellaops/tempo/forensic/wal' },
    });
    const loki = yamlOf(files, 'loki/loki.yaml') as { common: { storage: unknown }; schema_config: { configs: { object_store: string }[] }; compactor: { delete_request_store: string } };
    expect(loki.common.storage).toEqual({ s3: { bucketnames: 'stella-logs', endpoint: 's3.obs.corp:9000', region: 'us-east-1', insecure: false, s3forcepathstyle: true } });
    expect(loki.schema_config.configs[0]!.object_store).toBe('s3');
    expect(loki.compactor.delete_request_store).toBe('s3');
    for (const f of files) expect(f.content).not.toMatch(/access_key|secret/i);
  });
});

describe('refusals', () => {
  it('remote write beyond loopback needs the allowlist, and TLS', () => {
    const err = refusal(() => renderBackends('default', { remoteWrite: [{ name: 'longterm', url: 'https://mimir.obs.corp/api/v1/push' }] }));
    expect(err.code).toBe('profile.invalid');
    expect(err.issues).toEqual([
      {
        code: 'backend.remote_write_not_allowlisted',
        severity: 'error',
        path: 'prometheus.remote_write[0].url',
        message: '"https://mimir.obs.corp/api/v1/push" is not on the remote-write allowlist; add "mimir.obs.corp" to remoteWriteAllowlist',
      },
    ]);
    const ok = renderBackends('default', { remoteWrite: [{ name: 'longterm', url: 'https://mimir.obs.corp/api/v1/push', caFile: '/etc/prometheus/ca.crt' }], remoteWriteAllowlist: ['mimir.obs.corp'] });
    expect(yamlOf(ok.files, 'prometheus/prometheus.yml')['remote_write']).toEqual([{ name: 'longterm', url: 'https://mimir.obs.corp/api/v1/push', tls_config: { ca_file: '/etc/prometheus/ca.crt' } }]);
    const plain = refusal(() => renderBackends('default', { remoteWrite: [{ name: 'longterm', url: 'http://mimir.obs.corp/api/v1/push' }], remoteWriteAllowlist: ['mimir.obs.corp'] }));
    expect(plain.issues.map((i) => [i.code, i.message])).toEqual([['backend.endpoint_invalid', 'sends to "http://mimir.obs.corp/api/v1/push" without TLS; plaintext is allowed on loopback only: use https']]);
  });

  it('sealed: remote write and object stores on loopback only, naming the endpoint and the fix', () => {
    const err = refusal(() =>
      renderBackends('airgap', {
        remoteWrite: [{ name: 'longterm', url: 'https://mimir.obs.corp/api/v1/push' }],
        remoteWriteAllowlist: ['mimir.obs.corp'],
        tempoStorage: { backend: 's3', bucket: 'traces', endpoint: 's3.obs.corp:9000' },
      }),
    );
    expect(err.issues.map((i) => [i.code, i.path, i.message])).toEqual([
      [
        'backend.sealed_egress',
        'prometheus.remote_write[0].url',
        'sealed mode allows remote write to loopback only, and "https://mimir.obs.corp/api/v1/push" leaves the host; remove it, or forward through a loopback receiver that the enclave\'s transfer process reads',
      ],
      ['backend.sealed_egress', 'tempo.storage.s3.endpoint', 'sealed mode allows object stores on loopback only, and "s3.obs.corp:9000" leaves the host; use filesystem storage or an object store on this host'],
    ]);
    expect(() => renderBackends('airgap', { lokiStorage: { backend: 's3', bucket: 'logs', endpoint: '127.0.0.1:9000', insecure: true } })).not.toThrow();
  });

  it.each<[string, RenderBackendsOptions, string]>([
    ['a retention out of range', { retentionDays: { prometheus: 0 } }, 'option "retentionDays.prometheus" must be a whole number of days from 1 to 3650 (got 0)'],
    ['tiers out of order', { retentionDays: { lokiHot: 40 } }, 'option "retentionDays" Loki\'s tiers must grow hot ≤ warm ≤ cold (got 40, 30, 365 days)'],
    ['a scrape target for no service', { scrapeTargets: { billing: ['10.0.0.1:8080'] } }, 'option "scrapeTargets.billing" is not a StellaOps service (jobs: stella-observability, sbom-service, conseiller, excitator, policy-engine, export-center, orchestrator, task-runner)'],
    ['a scrape target that is a URL', { scrapeTargets: { 'policy-engine': ['http://10.0.0.1:8080'] } }, 'option "scrapeTargets.policy-engine[0]" must be host:port (got "http://10.0.0.1:8080")'],
    ['a relative data directory', { dataDir: 'data' }, 'option "dataDir" must be an absolute path (got "data")'],
  ])('%s', (_what, options, message) => {
    const err = refusal(() => renderBackends('default', options));
    expect(err.code).toBe('profile.invalid_option');
    expect(err.message).toBe(message);
  });
});

describe.skipIf(!requirePromtool())('promtool check config', () => {
  it.each(PROFILE_NAMES)('%s: accepts the Prometheus config and its rule files', (name) => {
    for (const options of [
      { rulesDir: RULES_DIR },
      { rulesDir: RULES_DIR, remoteWrite: [{ name: 'local', url: 'http://127.0.0.1:19291/api/v1/push' }], scrapeTargets: { 'policy-engine': ['10.1.2.3:9464', '10.1.2.4:9464'] } },
    ]) {
      const dir = written(name, options);
      const r = promtool(['check', 'config', 'prometheus/prometheus.yml'], dir);
      expect(r.output, r.output).toContain('SUCCESS: 2 rule files found');
      expect(r.status, r.output).toBe(0);
    }
  });
});

const tempo = binaryOnPath('tempo', 'Tempo config');
const loki = binaryOnPath('loki', 'Loki config');

describe.skipIf(!tempo)('tempo -config.verify', () => {
  it.each(PROFILE_NAMES)('%s', (name) => {
    const dir = written(name, {});
    const r = run(tempo!, [`-config.file=${join(dir, 'tempo/tempo.yaml')}`, '-config.verify']);
    expect(r.status, r.output).toBe(0);
  });
});

describe.skipIf(!loki)('loki -verify-config', () => {
  it.each(PROFILE_NAMES)('%s', (name) => {
    const dir = written(name, {});
    const r = run(loki!, [`-config.file=${join(dir, 'loki/loki.yaml')}`, '-verify-config']);
    expect(r.status, r.output).toBe(0);
  });
});
