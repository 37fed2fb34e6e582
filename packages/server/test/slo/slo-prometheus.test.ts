/**
 * One definition, two evaluators (SLO-2, SLO-6), and real alerts driving incident mode (INC-3):
 * three days of sbom-service samples are backfilled into a real Prometheus that evaluates the
 * shipped rules (deploy/rules/slo-rules.yaml, generated from deploy/slo) and sends its alerts
 * to a real Alertmanager, which posts them to the service. The same samples go over OTLP to a
 * service on embedded defaults; a second service asks Prometheus.
 *
 * - `GET /obs/slo?at=<a rule evaluation's time>` gives, from both services, the error ratio of
 *   every window that `slo:sli_error:ratio_rate<w>` recorded at that time, and the burn rates
 *   that follow from it;
 * - Alertmanager's `SLOErrorBudgetBurn` (1h/5m page) reaches the service, which switches
 *   incident mode on for the tenant of its token (one without metrics of its own, so only the
 *   alert can have done it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sendOtlp, toOpenMetrics } from '../obs/metric-fixture.js';
import { poll, promApi, requireBinaries, startAlertmanager, startPrometheus, type RunningProcess } from '../obs/prometheus-harness.js';
import { sloFixture } from './slo-fixture.js';

const RULES = readFileSync(fileURLToPath(new URL('../../../../deploy/rules/slo-rules.yaml', import.meta.url)), 'utf8');
const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
const CHECKED = [
  { slo: 'sbom-ingest-latency', target: 0.95 },
  { slo: 'sbom-service-availability', target: 0.999 },
  { slo: 'sbom-service-latency', target: 0.99 },
];
const available = requireBinaries('prometheus', 'promtool', 'prometheus-alertmanager');

let embedded: ReceiverService;
let viaPrometheus: ReceiverService;
let prometheus: RunningProcess | undefined;
let alertmanager: RunningProcess | undefined;
let secrets: string;

beforeAll(async () => {
  if (!available) return;
  embedded = await startReceiver({ STELLA_SLO_EVALUATION_INTERVAL_MS: '5000' });
  const port = (embedded.service.app.server.address() as AddressInfo).port;
  // Alertmanager presents a token of tenant globex with stella:incident:admin, from a file.
  secrets = mkdtempSync(join(tmpdir(), 'stella-am-token-'));
  writeFileSync(join(secrets, 'token'), await embedded.token('globex', ['stella:incident:admin#tenant/globex']), { mode: 0o600 });
  alertmanager = await startAlertmanager(
    [
      'route:',
      '  receiver: stella',
      "  group_by: ['alertname', 'slo', 'long_window']",
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: stella',
      '    webhook_configs:',
      `      - url: http://127.0.0.1:${port}/telemetry/alerts/alertmanager`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials_file: ${join(secrets, 'token')}`,
    ].join('\n'),
  );
  // Samples end just before Prometheus starts: it writes rule results only after its newest block.
  const endMs = Math.floor(Date.now() / 1000) * 1000 - 5_000;
  const fixture = sloFixture({ tenant: 'acme', startMs: endMs - (3 * 24 + 6) * 3_600_000, endMs, burstMinutes: 75 });
  prometheus = await startPrometheus({ openMetrics: toOpenMetrics(fixture), rules: { 'slo-rules.yaml': RULES }, alertmanager: new URL(alertmanager.url).host });
  [viaPrometheus] = await Promise.all([
    startReceiver({ STELLA_PROMETHEUS_URL: prometheus.url, STELLA_SLO_EVALUATION_INTERVAL_MS: '5000' }),
    sendOtlp(fixture, `http://127.0.0.1:${embedded.ports.http}`, await embedded.token('acme', ['stella:telemetry:write#tenant/acme'])),
  ]);
}, 600_000);

afterAll(async () => {
  // The services first: their evaluations ask Prometheus until they stop.
  await Promise.all([embedded?.stop(), viaPrometheus?.stop()]);
  await Promise.all([prometheus?.stop(), alertmanager?.stop()]);
  if (secrets) rmSync(secrets, { recursive: true, force: true });
});

async function get(t: ReceiverService, tenant: string, url: string) {
  const res = await t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await t.token(tenant, [`stella:obs:read#tenant/${tenant}`])}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

type Samples = { metric: Record<string, string>; values: [number, string][] }[];

describe.skipIf(!available)('SLOs against a real Prometheus and Alertmanager', () => {
  it("Alertmanager's SLOErrorBudgetBurn page switches incident mode on for the token's tenant", async () => {
    const status = await poll(
      'incident mode switched on by the alert',
      async () => {
        const body = await get(embedded, 'globex', '/telemetry/incidents/mode');
        return body.modes.some((m: { service: string }) => m.service === 'sbom-service') ? body : undefined;
      },
      120_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nPrometheus:\n${prometheus!.output().slice(-3000)}\nAlertmanager:\n${alertmanager!.output().slice(-3000)}`);
    });
    expect(status.incidents[0]).toMatchObject({ tenant: 'globex', service: 'sbom-service', trigger: 'slo_burn', started_by: 'system:slo' });
    const slo = await get(embedded, 'globex', '/obs/slo?slo=sbom-ingest-latency');
    expect(slo.breaches[0]).toMatchObject({ slo: 'sbom-ingest-latency', long_window: '1h', severity: 'page', source: 'alertmanager', burn_rate: 14.4, incident: 'on' });
    // The tenant has no metrics of its own: its evaluation shows no data, so only the alert could have acted.
    expect(slo.slos[0].state).toBe('no_data');
  }, 180_000);

  it.each(CHECKED)('/obs/slo gives the error ratios and burn rates the recording rules give for $slo', async ({ slo, target }) => {
    const recorded = new Map<string, Map<number, number>>();
    for (const w of WINDOWS) {
      const matrix = await promApi<{ result: Samples }>(prometheus!.url, 'query', { query: `slo:sli_error:ratio_rate${w}{slo="${slo}"}[15m]` });
      recorded.set(w, new Map((matrix.result[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)])));
    }
    // The group's first evaluation: nearest to the samples' end, so every window has samples.
    const at = Math.min(...recorded.get('1h')!.keys());
    expect(Number.isFinite(at)).toBe(true);
    const iso = new Date(at).toISOString();
    for (const service of [embedded, viaPrometheus]) {
      const body = await get(service, 'acme', `/obs/slo?slo=${slo}&at=${iso}`);
      expect(body.evaluated_at).toBe(iso);
      const status = body.slos[0];
      let compared = 0;
      for (const w of WINDOWS) {
        const rule = recorded.get(w)!.get(at);
        const mine = status.error_ratios[w] as number | null;
        if (rule === undefined || Number.isNaN(rule)) {
          expect(mine, `${body.source} ${slo} ${w}`).toBeNull();
          continue;
        }
        expect(mine, `${body.source} ${slo} ${w}`).not.toBeNull();
        expect(Math.abs(mine! - rule), `${body.source} ${slo} ${w}: service ${mine}, rule ${rule}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(rule)));
        compared++;
      }
      expect(compared).toBe(WINDOWS.length);
      for (const pair of status.burn_rates) {
        const rule = recorded.get(pair.long_window)!.get(at)!;
        expect(pair.long_burn_rate).toBeCloseTo(rule / (1 - target), 6);
      }
    }
    if (slo === 'sbom-ingest-latency') {
      const body = await get(embedded, 'acme', `/obs/slo?slo=${slo}&at=${iso}`);
      expect(body.slos[0].burn_rates[0]).toMatchObject({ long_window: '1h', firing: true });
      expect(body.slos[0].burn_rates[1]).toMatchObject({ long_window: '6h', firing: false });
    }
  });
});
