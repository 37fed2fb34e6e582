import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  generateSloRules,
  loadSlos,
  parseSlos,
  runbookPage,
  sliErrorRatioExpr,
  sloBurnRateAlerts,
  sloRuleGroup,
  type AlertingRule,
  type RecordingRule,
} from '../../src/index.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

interface RuleFile {
  groups: { name: string; rules: (RecordingRule & AlertingRule)[] }[];
}

describe('SLO rule generation', async () => {
  const slos = await loadSlos(FIXTURES);
  const [availability, latency, weekly] = slos as [(typeof slos)[0], (typeof slos)[0], (typeof slos)[0]];

  it('records the error ratio of every window, from bad/total or good/total', () => {
    expect(sliErrorRatioExpr(availability, '5m')).toBe(
      '(sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{job="checkout"}[5m]))',
    );
    expect(sliErrorRatioExpr(latency, '1h')).toBe(
      '1 - ((sum(rate(request_duration_seconds_bucket{job="checkout",le=~"0.5|0\\\\.50"}[1h])) or vector(0)) / sum(rate(request_duration_seconds_count{job="checkout"}[1h])))',
    );
    const records = sloRuleGroup(latency).rules.filter((r): r is RecordingRule => 'record' in r);
    expect(records.map((r) => r.record)).toEqual([
      'slo:objective:ratio',
      'slo:sli_error:ratio_rate5m',
      'slo:sli_error:ratio_rate30m',
      'slo:sli_error:ratio_rate1h',
      'slo:sli_error:ratio_rate2h',
      'slo:sli_error:ratio_rate6h',
      'slo:sli_error:ratio_rate1d',
      'slo:sli_error:ratio_rate3d',
    ]);
    expect(records.every((r) => r.labels['slo'] === 'checkout-latency' && r.labels['service'] === 'checkout')).toBe(true);
  });

  it('has one SLOErrorBudgetBurn per window pair with the alert contract labels, and a no-data alert', () => {
    const alerts = sloRuleGroup(availability).rules.filter((r): r is AlertingRule => 'alert' in r);
    expect(alerts.map((a) => [a.alert, a.labels['severity'], a.labels['long_window'], a.for])).toEqual([
      ['SLOErrorBudgetBurn', 'page', '1h', undefined],
      ['SLOErrorBudgetBurn', 'page', '6h', undefined],
      ['SLOErrorBudgetBurn', 'ticket', '1d', undefined],
      ['SLOErrorBudgetBurn', 'ticket', '3d', undefined],
      ['SLONoData', 'ticket', undefined, '10m'],
    ]);
    // 28d at 99.9%: 13.44 × 0.001, both windows of the pair.
    expect(alerts[0]!.expr).toBe('slo:sli_error:ratio_rate1h{slo="checkout-availability"} > 0.01344 and slo:sli_error:ratio_rate5m{slo="checkout-availability"} > 0.01344');
    expect(alerts[3]!.expr).toBe('slo:sli_error:ratio_rate3d{slo="checkout-availability"} > 0.001 and slo:sli_error:ratio_rate6h{slo="checkout-availability"} > 0.001');
    expect(alerts[4]!.expr).toBe('absent(http_requests_total{job="checkout"})');
    for (const a of alerts) {
      expect(a.labels['slo']).toBe('checkout-availability');
      expect(a.labels['service']).toBe('checkout');
      expect(Object.keys(a.annotations)).toEqual(['summary', 'description', 'runbook_url']);
    }
    expect(alerts[0]!.annotations['runbook_url']).toBe('docs/runbooks/slo-error-budget-burn.md');
    expect(alerts[4]!.annotations['runbook_url']).toBe('docs/runbooks/slo-no-data.md');
    expect(alerts[0]!.annotations['description']).toBe(
      'Checkout answers without server errors (objective 99.9% over 28d). More than 1.344% of events missed the objective over both the last 1h and the last 5m; at this pace the 28d error budget is gone in 2d 2h.',
    );
  });

  it('uses the thresholds of the period for shorter windows', () => {
    expect(sloBurnRateAlerts(weekly).map((p) => p.threshold)).toEqual([0.672, 0.28, 0.2, 0.2]);
  });

  it('stays within 17 rules per SLO', () => {
    for (const slo of slos) expect(sloRuleGroup(slo).rules.length).toBe(13);
  });

  it('writes a Prometheus rule file, one group per SLO in name order, byte-identical for any input order', () => {
    const text = generateSloRules(slos);
    expect(generateSloRules([...slos].reverse())).toBe(text);
    expect(text.startsWith('# Generated from OpenSLO definitions')).toBe(true);
    const file = parse(text) as RuleFile;
    expect(file.groups.map((g) => g.name)).toEqual(['slo-checkout-availability', 'slo-checkout-latency', 'slo-nightly-import']);
    expect(file.groups[1]!.rules[1]!.expr).toBe(sliErrorRatioExpr(latency, '5m'));
    expect(text).not.toMatch(/\r/);
  });

  it('takes the runbook base URL, the no-data delay and the header from the options', () => {
    const text = generateSloRules([availability], { runbookBaseUrl: 'https://runbooks.example/', noDataFor: '15m', header: 'line one\nline two' });
    expect(text.startsWith('# line one\n# line two\ngroups:\n')).toBe(true);
    const alerts = (parse(text) as RuleFile).groups[0]!.rules.filter((r) => r.alert);
    expect(alerts[0]!.annotations['runbook_url']).toBe('https://runbooks.example/slo-error-budget-burn.md');
    expect(alerts[4]!.for).toBe('15m');
    expect(() => generateSloRules([availability], { noDataFor: '90s' })).toThrow(/noDataFor must be whole minutes/);
  });

  it('refuses two SLOs with one name', () => {
    expect(() => generateSloRules([availability, availability])).toThrow(/already defined/);
  });

  it('names runbook pages after the alert', () => {
    expect(runbookPage('SLOErrorBudgetBurn')).toBe('slo-error-budget-burn.md');
    expect(runbookPage('TelemetryExportBacklog')).toBe('telemetry-export-backlog.md');
  });

  it('keeps a 99.99% objective exact in the thresholds', () => {
    const [slo] = parseSlos(
      generateLikeAvailability('0.9999'),
    );
    expect(sloBurnRateAlerts(slo!).map((p) => p.threshold)).toEqual([0.00144, 0.0006, 0.0003, 0.0001]);
  });
});

function generateLikeAvailability(target: string): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata: { name: tight }
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { spec: { query: 'errors_total' } } }
        total: { metricSource: { spec: { query: 'requests_total' } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: ${target} }]
`;
}
