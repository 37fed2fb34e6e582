/** The self-observation settings: defaults, the rules they are held to, and `--help` naming every setting. */
import { describe, expect, it } from 'vitest';
import { configHelp } from '../../src/config.js';
import { ConfigError, resolveConfig } from '../../src/index.js';

describe('self-observation settings', () => {
  it('default to storing its own traces and logs under stella-ops, tracing a tenth of untraced requests, no separate metrics port', () => {
    expect(resolveConfig([], {})).toMatchObject({ selfTenant: 'stella-ops', selfTelemetry: true, selfSamplingRatio: 0.1, metricsPort: undefined });
  });

  it('take flags, environment and file like every setting', () => {
    const c = resolveConfig(['--self-tenant', 'platform-ops', '--metrics-port', '9464'], { STELLA_SELF_SAMPLING_RATIO: '1', STELLA_SELF_TELEMETRY: 'false' });
    expect(c).toMatchObject({ selfTenant: 'platform-ops', selfTelemetry: false, selfSamplingRatio: 1, metricsPort: 9464 });
  });

  it('refuse a tenant id, a ratio or a port out of their rules, naming the setting', () => {
    expect(() => resolveConfig([], { STELLA_SELF_TENANT: 'ops/team' })).toThrow(/STELLA_SELF_TENANT "ops\/team" must be 1-64 letters/);
    expect(() => resolveConfig([], { STELLA_SELF_TENANT: 'global' })).toThrow(ConfigError);
    expect(() => resolveConfig([], { STELLA_SELF_SAMPLING_RATIO: '1.5' })).toThrow(/STELLA_SELF_SAMPLING_RATIO must be a number from 0 to 1/);
    expect(() => resolveConfig([], { STELLA_SELF_SAMPLING_RATIO: 'half' })).toThrow(ConfigError);
    expect(() => resolveConfig([], { STELLA_METRICS_PORT: '70000' })).toThrow(/STELLA_METRICS_PORT must be an integer/);
  });

  it('are listed by --help with every other setting: flag, environment variable, file key and what it does', () => {
    const help = configHelp();
    expect(help).toContain('  --self-tenant  STELLA_SELF_TENANT  (file: selfTenant)\n      Tenant the service files its own traces and logs under');
    expect(help).toContain('--metrics-port  STELLA_METRICS_PORT');
    const settings = Object.keys(resolveConfig([], {}));
    for (const key of settings) expect(help, key).toContain(`(file: ${key})`);
    expect(help.match(/^ {2}--/gm)).toHaveLength(settings.length);
  });
});
