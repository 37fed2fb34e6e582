/**
 * Validation (COL-2, COL-5): each rule on a configuration that breaks it, with its stable code,
 * the path at fault and the exact message; sealed mode and the allowlist through rendering;
 * YAML read back with its header.
 */
import { describe, expect, it } from 'vitest';
import {
  ProfileError,
  renderProfile,
  validateCollectorConfig,
  validateProfile,
  type CollectorConfig,
  type ProfileIssue,
  type ValidateOptions,
} from '../../src/index.ts';

/** A small valid configuration to break one rule at a time. */
function base(): CollectorConfig {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' } } } },
    processors: { 'redaction/policy': { allow_all_keys: true }, batch: {} },
    exporters: { 'otlp/tempo': { endpoint: '127.0.0.1:14317', tls: { insecure: true } } },
    extensions: { health_check: { endpoint: '127.0.0.1:13133' } },
    service: {
      extensions: ['health_check'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['redaction/policy', 'batch'], exporters: ['otlp/tempo'] } },
    },
  };
}

function errors(config: CollectorConfig, options?: ValidateOptions): Pick<ProfileIssue, 'code' | 'path' | 'message'>[] {
  const report = validateCollectorConfig(config, options);
  expect(report.ok).toBe(report.errors.length === 0);
  return report.errors.map(({ code, path, message }) => ({ code, path, message }));
}

describe('validateCollectorConfig', () => {
  it('accepts the base configuration', () => {
    expect(validateCollectorConfig(base())).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('refuses a component type the pinned distribution does not ship', () => {
    const c = base();
    c.exporters!['loki'] = { endpoint: 'http://127.0.0.1:3100/loki/api/v1/push' };
    c.service.pipelines['logs'] = { receivers: ['otlp'], processors: ['redaction/policy'], exporters: ['loki'] };
    expect(errors(c)).toEqual([
      {
        code: 'collector.unknown_component',
        path: 'exporters.loki',
        message: 'component type "loki" is not in otelcol-contrib 0.136.0; use a component the distribution ships (src/profiles/otelcol-contrib-0.136.0.ts)',
      },
    ]);
  });

  it('refuses a distribution it has no component list for', () => {
    expect(errors(base(), { distribution: { name: 'otelcol-contrib', version: '0.99.0' } })).toEqual([
      {
        code: 'collector.unknown_distribution',
        path: 'distribution',
        message: 'no component list for otelcol-contrib 0.99.0 (known: otelcol-contrib 0.136.0); pin a known version or add its component list beside otelcol-contrib-0.136.0.ts',
      },
    ]);
  });

  it('refuses a pipeline naming a component no section declares', () => {
    const c = base();
    c.service.pipelines['traces']!.processors = ['redaction/policy', 'tail_sampling', 'batch'];
    expect(errors(c)).toEqual([
      { code: 'collector.undeclared_component', path: 'service.pipelines.traces.processors', message: '"tail_sampling" is not declared under processors; declare it or remove it from the pipeline' },
    ]);
  });

  it('refuses a declared component nothing uses (an error: a profile holds nothing it does not run)', () => {
    const c = base();
    c.exporters!['otlphttp/spare'] = { endpoint: 'http://127.0.0.1:4318' };
    c.extensions!['pprof'] = { endpoint: '127.0.0.1:1777' };
    expect(errors(c)).toEqual([
      { code: 'collector.unused_component', path: 'exporters.otlphttp/spare', message: 'is declared but not used; remove it or add it to a pipeline' },
      { code: 'collector.unused_component', path: 'extensions.pprof', message: 'is declared but not used; remove it or add it to service.extensions' },
    ]);
  });

  it('refuses pipelines without receivers or exporters, or named for no signal', () => {
    const c = base();
    c.service.pipelines['events'] = { receivers: ['otlp'], processors: ['redaction/policy'], exporters: ['otlp/tempo'] };
    c.service.pipelines['traces']!.exporters = [];
    c.exporters!['otlp/tempo'] = { endpoint: '127.0.0.1:14317', tls: { insecure: true } };
    expect(errors(c)).toEqual([
      { code: 'collector.pipeline_incomplete', path: 'service.pipelines.events', message: 'is not named for a signal: name pipelines traces, metrics or logs (optionally followed by /name)' },
      { code: 'collector.pipeline_incomplete', path: 'service.pipelines.traces', message: 'has no exporters; a pipeline needs at least one receiver and one exporter' },
    ]);
  });

  it('refuses a component in a pipeline of a signal it does not handle', () => {
    const c = base();
    c.exporters!['prometheusremotewrite'] = { endpoint: 'http://127.0.0.1:9090/api/v1/write' };
    c.service.pipelines['traces']!.exporters = ['otlp/tempo', 'prometheusremotewrite'];
    expect(errors(c)).toEqual([
      { code: 'collector.signal_unsupported', path: 'service.pipelines.traces.exporters', message: '"prometheusremotewrite" handles metrics only, not traces; use it in a metrics pipeline' },
    ]);
  });

  it('refuses a receiver listening beyond loopback without TLS, and accepts it with TLS', () => {
    const c = base();
    (c.receivers!['otlp'] as { protocols: Record<string, unknown> }).protocols['http'] = { endpoint: '0.0.0.0:4318' };
    expect(errors(c)).toEqual([
      {
        code: 'collector.receiver_plaintext',
        path: 'receivers.otlp.protocols.http',
        message: 'listens on "0.0.0.0:4318" without TLS; plaintext is allowed on loopback only: set tls (cert_file, key_file, and client_ca_file for mutual TLS) or listen on 127.0.0.1',
      },
    ]);
    (c.receivers!['otlp'] as { protocols: Record<string, unknown> }).protocols['http'] = { endpoint: '0.0.0.0:4318', tls: { cert_file: '/c.crt', key_file: '/c.key' } };
    expect(errors(c)).toEqual([]);
  });

  it('refuses an exporter to an endpoint beyond loopback that is not on the allowlist, naming what to add', () => {
    const c = base();
    c.exporters!['otlp/tempo'] = { endpoint: 'tempo.obs.corp:4317' };
    expect(errors(c)).toEqual([
      {
        code: 'collector.exporter_not_allowlisted',
        path: 'exporters.otlp/tempo.endpoint',
        message: '"tempo.obs.corp:4317" is not on the exporter allowlist; add "tempo.obs.corp:4317" to the profile\'s exporterAllowlist or to the telemetry policy\'s egress.allowlist',
      },
    ]);
    for (const entry of ['tempo.obs.corp', 'tempo.obs.corp:4317', 'https://tempo.obs.corp:4317', 'TEMPO.OBS.CORP']) {
      expect(errors(c, { exporterAllowlist: [entry] }), entry).toEqual([]);
    }
    expect(errors(c, { exporterAllowlist: ['tempo.obs.corp:4318'] })).toHaveLength(1);
  });

  it('refuses plaintext beyond loopback even when allowlisted', () => {
    const c = base();
    c.exporters!['otlp/tempo'] = { endpoint: 'tempo.obs.corp:4317', tls: { insecure: true } };
    expect(errors(c, { exporterAllowlist: ['tempo.obs.corp'] })).toEqual([
      {
        code: 'collector.exporter_plaintext',
        path: 'exporters.otlp/tempo.endpoint',
        message: 'sends to "tempo.obs.corp:4317" without TLS; plaintext is allowed on loopback only: use https (for gRPC, drop tls.insecure) and set tls.ca_file when the backend\'s CA is private',
      },
    ]);
  });

  it('in sealed mode allows loopback and files only: anything else fails naming the endpoint and the fix, allowlist or not', () => {
    const c = base();
    c.exporters!['otlp/tempo'] = { endpoint: 'https://10.0.0.5:4317' };
    const sealed = {
      code: 'collector.sealed_egress',
      path: 'exporters.otlp/tempo.endpoint',
      message:
        'sealed mode allows loopback and file exporters only, and "https://10.0.0.5:4317" leaves the host; point the exporter at a loopback endpoint (127.0.0.0/8, ::1, localhost) or use file exporters (the airgap profile)',
    };
    expect(errors(c, { sealed: true, exporterAllowlist: ['10.0.0.5'] })).toEqual([sealed]);
    for (const endpoint of ['127.0.0.1:14317', '127.9.9.9:14317', '[::1]:14317', 'localhost:14317', 'dns:///localhost:14317', 'http://[::ffff:127.0.0.1]:4318']) {
      c.exporters!['otlp/tempo'] = { endpoint, tls: { insecure: true } };
      expect(errors(c, { sealed: true }), endpoint).toEqual([]);
    }
    // A name is not resolved: the answer must not depend on the machine that validates.
    c.exporters!['otlp/tempo'] = { endpoint: 'collector.internal:4317' };
    expect(errors(c, { sealed: true })[0]!.code).toBe('collector.sealed_egress');
    c.exporters!['file/traces'] = { path: '//fileserver/share/traces.jsonl' };
    c.exporters!['otlp/tempo'] = { endpoint: '127.0.0.1:14317', tls: { insecure: true } };
    c.service.pipelines['traces']!.exporters = ['otlp/tempo', 'file/traces'];
    expect(errors(c, { sealed: true })).toEqual([
      { code: 'collector.sealed_egress', path: 'exporters.file/traces.path', message: 'sealed mode allows local files only, and "//fileserver/share/traces.jsonl" is a network share; write to a local directory' },
    ]);
  });

  it('refuses an exporter whose destination cannot be checked, or cannot be read', () => {
    const c = base();
    c.exporters!['kafka'] = { brokers: ['kafka.corp:9092'] };
    c.exporters!['otlp/tempo'] = { endpoint: 'tempo corp' };
    c.service.pipelines['traces']!.exporters = ['otlp/tempo', 'kafka'];
    expect(errors(c)).toEqual([
      {
        code: 'collector.endpoint_invalid',
        path: 'exporters.kafka',
        message:
          'names no endpoint validation can check (endpoint, traces_endpoint, metrics_endpoint, logs_endpoint); only exporters with an endpoint, file, debug and nop exporters can be shown to send where the allowlist permits',
      },
      { code: 'collector.endpoint_invalid', path: 'exporters.otlp/tempo.endpoint', message: '"tempo corp" is not host:port or a URL' },
    ]);
  });

  it('warns about a pipeline without redaction: the policy is then enforced in the services only', () => {
    const c = base();
    c.service.pipelines['traces']!.processors = ['batch'];
    c.processors = { batch: {} };
    expect(validateCollectorConfig(c)).toEqual({
      ok: true,
      errors: [],
      warnings: [{ code: 'collector.redaction_missing', severity: 'warning', path: 'service.pipelines.traces', message: 'applies no redaction processor: the telemetry policy is enforced in the services only' }],
    });
  });
});

describe('validateProfile', () => {
  it('judges a rendered profile, and its YAML alone by the header', () => {
    for (const name of ['default', 'forensic', 'airgap'] as const) {
      const r = renderProfile(name);
      expect(validateProfile(r).errors).toEqual([]);
      expect(validateProfile(r.yaml).errors).toEqual([]);
    }
  });

  it('reads sealed mode from the header: an edited sealed file with a remote exporter fails', () => {
    const yaml = renderProfile('airgap').yaml.replace('path: /var/lib/stellaops/otelcol/airgap/export/logs.jsonl', 'path: //nas/logs.jsonl');
    expect(validateProfile(yaml).errors.map((e) => e.code)).toEqual(['collector.sealed_egress']);
    expect(validateProfile(yaml, { sealed: false }).errors).toEqual([]);
  });

  it('reports text that is not YAML as collector.invalid, without throwing', () => {
    expect(validateProfile('receivers: [unclosed').errors[0]).toMatchObject({ code: 'collector.invalid', path: '' });
    expect(validateProfile('- a list').errors).toEqual([{ code: 'collector.invalid', severity: 'error', path: '', message: 'must be a YAML mapping' }]);
  });
});

describe('renderProfile refuses what does not validate', () => {
  it('a sealed default profile with a remote Tempo fails with profile.invalid and every error', () => {
    let err: unknown;
    try {
      renderProfile('default', { sealed: true, tempo: { endpoint: 'tempo.obs.corp:4317' }, exporterAllowlist: ['tempo.obs.corp'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    const e = err as ProfileError;
    expect(e.code).toBe('profile.invalid');
    expect(e.issues.map((i) => [i.code, i.path])).toEqual([['collector.sealed_egress', 'exporters.otlp/tempo.endpoint']]);
    expect(e.message).toBe(
      'profile "default" is invalid (1 error):\n  collector.sealed_egress at exporters.otlp/tempo.endpoint: sealed mode allows loopback and file exporters only, and "tempo.obs.corp:4317" leaves the host; point the exporter at a loopback endpoint (127.0.0.0/8, ::1, localhost) or use file exporters (the airgap profile)',
    );
  });

  it('a remote backend renders once allowlisted, by option or by the policy\'s egress allowlist', () => {
    expect(() => renderProfile('default', { loki: { endpoint: 'https://loki.obs.corp/otlp' } })).toThrow(ProfileError);
    expect(renderProfile('default', { loki: { endpoint: 'https://loki.obs.corp/otlp' }, exporterAllowlist: ['loki.obs.corp'] }).config.exporters!['otlphttp/loki']).toEqual(
      expect.objectContaining({ endpoint: 'https://loki.obs.corp/otlp', tls: { insecure: false } }),
    );
    const policy = { version: 1 as const, allowKeys: [], redactKeys: [], egress: { allowlist: ['https://loki.obs.corp'] } };
    expect(() => renderProfile('default', { policy, loki: { endpoint: 'https://loki.obs.corp/otlp' } })).not.toThrow();
  });
});
