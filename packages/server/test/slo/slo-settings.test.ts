/** The settings of the metrics query and the SLO evaluator: defaults, and refusals that name the setting. */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';

const resolve = (env: Record<string, string>) => resolveConfig([], env);

describe('metrics and SLO settings', () => {
  it('default to the embedded store, the shipped SLOs, a minute and the fast page', () => {
    const c = resolve({});
    expect(c).toMatchObject({
      prometheusUrl: undefined,
      prometheusTenantLabel: 'stella_tenant_id',
      obsMetricsMaxSeries: 500,
      obsMetricsMaxPoints: 11000,
      sloEvaluationIntervalMs: 60_000,
      sloIncidentBurnRate: 14.4,
      sloIncidentTtlMinutes: 240,
      sloWebhooks: [],
    });
    expect(c.sloDir.endsWith('/deploy/slo')).toBe(true);
  });

  it('read webhooks with their format, and the burn rate or off', () => {
    const c = resolve({ STELLA_SLO_WEBHOOKS: 'alertmanager:https://am.example/hook, https://notify.example/ce ,cloudevents:http://127.0.0.1:9/x', STELLA_SLO_WEBHOOK_SECRET: 's', STELLA_SLO_INCIDENT_BURN_RATE: 'off' });
    expect(c.sloWebhooks).toEqual([
      { format: 'alertmanager', url: 'https://am.example/hook' },
      { format: 'cloudevents', url: 'https://notify.example/ce' },
      { format: 'cloudevents', url: 'http://127.0.0.1:9/x' },
    ]);
    expect(c.sloIncidentBurnRate).toBeUndefined();
  });

  it.each([
    [{ STELLA_SLO_WEBHOOKS: 'https://notify.example/ce' }, /STELLA_SLO_WEBHOOK_SECRET/],
    [{ STELLA_SLO_WEBHOOKS: 'alertmanager:not a url', STELLA_SLO_WEBHOOK_SECRET: 's' }, /STELLA_SLO_WEBHOOKS/],
    [{ STELLA_SLO_WEBHOOKS: 'https://notify.example/ce', STELLA_SLO_WEBHOOK_SECRET: 's', STELLA_SEALED: 'true' }, /sealed/],
    [{ STELLA_SLO_INCIDENT_BURN_RATE: '0.5' }, /STELLA_SLO_INCIDENT_BURN_RATE/],
    [{ STELLA_SLO_INCIDENT_TTL_MINUTES: '5000' }, /STELLA_INCIDENT_MAX_TTL_HOURS/],
    [{ STELLA_PROMETHEUS_URL: 'prometheus:9090' }, /STELLA_PROMETHEUS_URL/],
    [{ STELLA_PROMETHEUS_TENANT_LABEL: 'tenant-id' }, /STELLA_PROMETHEUS_TENANT_LABEL/],
    [{ STELLA_OBS_METRICS_MAX_POINTS: '20000' }, /STELLA_OBS_METRICS_MAX_POINTS/],
    [{ STELLA_SLO_EVALUATION_INTERVAL_MS: '10' }, /STELLA_SLO_EVALUATION_INTERVAL_MS/],
  ])('refuses %j', (env, message) => {
    expect(() => resolve(env)).toThrow(ConfigError);
    expect(() => resolve(env)).toThrow(message);
  });
});
