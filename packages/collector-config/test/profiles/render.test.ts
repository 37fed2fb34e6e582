/**
 * Rendering the profiles: what each one sets (COL-1), that rendering is deterministic, and the
 * refusals of options with their codes and exact messages.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ProfileError, PROFILE_NAMES, renderProfile, SAMPLING_DEFAULTS, type CollectorConfig, type ProfileName } from '../../src/index.ts';
import { FIXTURE_POLICY, FIXTURE_POLICY_FILE } from './fixtures.ts';

function refusal(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return err as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

type TailPolicy = { name: string; type: string; [k: string]: unknown };
const policies = (config: CollectorConfig): TailPolicy[] => (config.processors!['tail_sampling']! as { policies: TailPolicy[] }).policies;

describe('rendering', () => {
  it('is byte-identical for identical input, whatever the order options were written in', () => {
    for (const name of PROFILE_NAMES) {
      const a = renderProfile(name, { policyFile: FIXTURE_POLICY_FILE, sampling: { services: { a: 10, b: 20 } }, exporterAllowlist: ['x.corp', 'y.corp'] });
      const b = renderProfile(name, { exporterAllowlist: ['x.corp', 'y.corp'], sampling: { services: { b: 20, a: 10 } }, policy: FIXTURE_POLICY });
      expect(b.yaml).toBe(a.yaml);
      expect(renderProfile(name).yaml).toBe(renderProfile(name).yaml);
    }
  });

  it('writes YAML that reads back as the configuration, with LF endings and no document markers', () => {
    for (const name of PROFILE_NAMES) {
      const r = renderProfile(name);
      expect(parse(r.yaml)).toEqual(JSON.parse(JSON.stringify(r.config)));
      expect(r.yaml).not.toContain('\r');
      expect(r.yaml.endsWith('\n')).toBe(true);
      expect(r.warnings).toEqual([]);
    }
  });

  it('names the profile, the pinned distribution, sealed mode, the allowlist and the policy in the header', () => {
    const r = renderProfile('airgap', { policy: FIXTURE_POLICY });
    expect(r.yaml.split('\n').slice(2, 7)).toEqual([
      '# stellaops.profile: airgap',
      '# stellaops.distribution: otelcol-contrib 0.136.0',
      '# stellaops.sealed: true',
      '# stellaops.exporter_allowlist: ["otel.enclave.corp","https://loki.enclave.corp:3100"]',
      `# stellaops.policy: ${r.model.redaction.policyDigest}`,
    ]);
    expect(r.model.redaction.policyDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('every profile', () => {
  it.each(PROFILE_NAMES)('%s: OTLP over gRPC and HTTP with mutual TLS, memory_limiter first and batch last in every pipeline', (name) => {
    const { config } = renderProfile(name);
    const otlp = config.receivers!['otlp'] as { protocols: Record<string, { endpoint: string; tls: Record<string, string> }> };
    expect(Object.keys(otlp.protocols).sort()).toEqual(['grpc', 'http']);
    expect(otlp.protocols['grpc']).toEqual({
      endpoint: '0.0.0.0:4317',
      tls: { cert_file: '/etc/stellaops/otelcol/tls/server.crt', key_file: '/etc/stellaops/otelcol/tls/server.key', client_ca_file: '/etc/stellaops/otelcol/tls/client-ca.crt', min_version: '1.2' },
    });
    expect(otlp.protocols['http']!.endpoint).toBe('0.0.0.0:4318');
    for (const [signal, p] of Object.entries(config.service.pipelines)) {
      expect(p.receivers, signal).toEqual(['otlp']);
      expect(p.processors![0], signal).toBe('memory_limiter');
      expect(p.processors!.at(-1), signal).toBe('batch');
      expect(p.processors, signal).toEqual(expect.arrayContaining(['resourcedetection', 'redaction/policy', 'transform/policy']));
      expect(p.processors!.includes('tail_sampling'), signal).toBe(signal === 'traces');
    }
    expect((config.processors!['resourcedetection'] as { detectors: string[] }).detectors).toEqual(['env', 'system']);
  });

  it.each(PROFILE_NAMES)('%s: plaintext receivers listen on loopback only', (name) => {
    const { config } = renderProfile(name, { tls: false });
    const otlp = config.receivers!['otlp'] as { protocols: Record<string, Record<string, unknown>> };
    expect(otlp.protocols['grpc']).toEqual({ endpoint: '127.0.0.1:4317' });
    expect(otlp.protocols['http']).toEqual({ endpoint: '127.0.0.1:4318' });
  });

  it.each(PROFILE_NAMES)('%s: tail sampling keeps incident-mode traces, errors and slow traces', (name) => {
    const names = policies(renderProfile(name).config).map((p) => p.name);
    expect(names.slice(0, 3)).toEqual(['incident-mode', 'errors', 'slow']);
    expect(names.at(-1)).toBe('baseline');
  });
});

describe('default', () => {
  const { config, model } = renderProfile('default');

  it('sends traces to Tempo over OTLP, metrics by remote write to Prometheus, logs to Loki over OTLP/HTTP, with persistent queues', () => {
    expect(Object.keys(config.exporters!).sort()).toEqual(['otlp/tempo', 'otlphttp/loki', 'prometheusremotewrite']);
    expect(config.service.pipelines['traces']!.exporters).toEqual(['otlp/tempo']);
    expect(config.service.pipelines['metrics']!.exporters).toEqual(['prometheusremotewrite']);
    expect(config.service.pipelines['logs']!.exporters).toEqual(['otlphttp/loki']);
    expect(config.exporters!['otlp/tempo']).toMatchObject({ endpoint: '127.0.0.1:14317', tls: { insecure: true }, sending_queue: { storage: 'file_storage/queue' } });
    expect(config.exporters!['otlphttp/loki']).toMatchObject({ endpoint: 'http://127.0.0.1:3100/otlp' });
    expect(config.exporters!['prometheusremotewrite']).toMatchObject({ endpoint: 'http://127.0.0.1:9090/api/v1/write' });
    expect(config.extensions!['file_storage/queue']).toEqual({ directory: '/var/lib/stellaops/otelcol/default/queue', create_directory: true });
    expect(model.sealed).toBe(false);
  });

  it('keeps errors up to a cap, traces over 1 s, 25% of policy-engine and export-center, 10% of the rest, deciding after 10 s', () => {
    const tail = config.processors!['tail_sampling'] as Record<string, unknown>;
    expect(tail['decision_wait']).toBe('10s');
    const byName = Object.fromEntries(policies(config).map((p) => [p.name, p]));
    expect(byName['errors']).toEqual({
      name: 'errors',
      type: 'and',
      and: {
        and_sub_policy: [
          { name: 'errors-status', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
          { name: 'errors-cap', type: 'rate_limiting', rate_limiting: { spans_per_second: 2000 } },
        ],
      },
    });
    expect(byName['slow']).toEqual({ name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } });
    expect(byName['service-policy-engine']).toMatchObject({ type: 'and' });
    expect(JSON.stringify(byName['service-policy-engine'])).toContain('"sampling_percentage":25');
    expect(byName['baseline']).toEqual({ name: 'baseline', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } });
  });
});

describe('forensic', () => {
  const { config } = renderProfile('forensic');
  const tail = config.processors!['tail_sampling'] as Record<string, unknown>;
  const byName = Object.fromEntries(policies(config).map((p) => [p.name, p]));

  it('keeps 100% of error traces (no cap), waits 30 s before deciding and keeps more of everything else', () => {
    expect(byName['errors']).toEqual({ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } });
    expect(tail['decision_wait']).toBe('30s');
    expect(tail['num_traces']).toBe(SAMPLING_DEFAULTS.forensic.numTraces);
    expect(byName['slow']).toEqual({ name: 'slow', type: 'latency', latency: { threshold_ms: 500 } });
    expect(byName['service-policy-engine']).toEqual({ name: 'service-policy-engine', type: 'string_attribute', string_attribute: { key: 'service.name', values: ['policy-engine'] } });
    expect(byName['baseline']).toMatchObject({ probabilistic: { sampling_percentage: 25 } });
  });

  it('archives every signal to rotating files kept 180 days, besides the backends, and retries without giving up', () => {
    for (const signal of ['traces', 'metrics', 'logs']) {
      expect(config.service.pipelines[signal]!.exporters).toContain(`file/${signal}`);
      expect(config.exporters![`file/${signal}`]).toEqual({
        path: `/var/lib/stellaops/otelcol/forensic/export/${signal}.jsonl`,
        format: 'json',
        flush_interval: '1s',
        rotation: { max_megabytes: 256, max_days: 180, max_backups: 0, localtime: false },
      });
    }
    expect(config.exporters!['otlp/tempo']).toMatchObject({ retry_on_failure: { max_elapsed_time: '0s' }, sending_queue: { queue_size: 20000 } });
  });
});

describe('airgap', () => {
  const { config, model } = renderProfile('airgap');

  it('is sealed and exports to local files only, with no persistent queue to declare', () => {
    expect(model.sealed).toBe(true);
    expect(Object.keys(config.exporters!).sort()).toEqual(['file/logs', 'file/metrics', 'file/traces']);
    for (const signal of ['traces', 'metrics', 'logs']) expect(config.service.pipelines[signal]!.exporters).toEqual([`file/${signal}`]);
    expect(Object.keys(config.extensions!)).toEqual(['health_check']);
  });

  it('has no backend exporters, so backend endpoints in the options change nothing', () => {
    expect(renderProfile('airgap', { tempo: { endpoint: 'tempo.corp:4317' } }).yaml).toBe(renderProfile('airgap').yaml);
  });
});

describe('refusals', () => {
  it.each<[string, () => unknown, string, string, string | undefined]>([
    ['an unknown profile', () => renderProfile('staging' as ProfileName), 'profile.unknown', 'unknown profile "staging" (profiles: default, forensic, airgap)', undefined],
    ['a port out of range', () => renderProfile('default', { grpcPort: 70000 }), 'profile.invalid_option', 'option "grpcPort" must be an integer from 1 to 65535 (got 70000)', 'grpcPort'],
    ['a relative data directory', () => renderProfile('default', { dataDir: 'var/otelcol' }), 'profile.invalid_option', 'option "dataDir" must be an absolute path (got "var/otelcol")', 'dataDir'],
    ['a relative certificate', () => renderProfile('default', { tls: { certFile: 'server.crt' } }), 'profile.invalid_option', 'option "tls.certFile" must be an absolute path (got "server.crt")', 'tls.certFile'],
    ['a listen host that is a name', () => renderProfile('default', { listenHost: 'collector.corp' }), 'profile.invalid_option', 'option "listenHost" must be an IP address or localhost (got "collector.corp")', 'listenHost'],
    ['a bad duration', () => renderProfile('default', { sampling: { decisionWait: '10 seconds' } }), 'profile.invalid_option', 'option "sampling.decisionWait" must be a duration such as 10s or 500ms (got "10 seconds")', 'sampling.decisionWait'],
    ['a share over 100%', () => renderProfile('default', { sampling: { baselinePercent: 150 } }), 'profile.invalid_option', 'option "sampling.baselinePercent" must be a number from 0 to 100 (got 150)', 'sampling.baselinePercent'],
    ['a CIDR on the allowlist', () => renderProfile('default', { exporterAllowlist: ['10.0.0.0/8'] }), 'profile.invalid_option', 'option "exporterAllowlist[0]" "10.0.0.0/8": CIDR ranges are not supported by the egress guard; list each address', 'exporterAllowlist[0]'],
    ['an endpoint that is not one', () => renderProfile('default', { tempo: { endpoint: 'tempo corp' } }), 'profile.invalid_option', 'option "tempo.endpoint" must be host:port or a URL (got "tempo corp")', 'tempo.endpoint'],
  ])('%s', (_what, fn, code, message, path) => {
    const err = refusal(fn);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(err.path).toBe(path);
  });

  it('a policy file that cannot be used is profile.policy_unusable, with telemetry-core\'s error as the cause', () => {
    const err = refusal(() => renderProfile('default', { policyFile: '/nonexistent/telemetry-policy.yaml' }));
    expect(err.code).toBe('profile.policy_unusable');
    expect(err.message).toBe('telemetry policy /nonexistent/telemetry-policy.yaml: file not found');
    expect((err.cause as { code: string }).code).toBe('TELEMETRY_POLICY_NOT_FOUND');
  });
});
