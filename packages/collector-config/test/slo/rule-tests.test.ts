import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateSloRules, generateSloRuleTests, loadSlos, parseSlos, SloError, type Slo } from '../../src/index.ts';
import { promtool, requirePromtool, tempFiles } from '../helpers/promtool.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

interface ExpAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
interface TestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: {
    name: string;
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: { eval_time: string; alertname: string; exp_alerts: ExpAlert[] }[];
  }[];
}

function slo(name: string, bad: string, total: string, extra = ''): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { spec: { query: '${bad}' } } }
        total: { metricSource: { spec: { query: '${total}' } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
${extra}---
`;
}

/** Names of the SLOs whose alert of this window (or no-data alert) is expected at the check. */
function firing(file: TestFile, test: string, evalTime: string, alertname: string, longWindow?: string): string[] {
  const group = file.tests.find((t) => t.name.startsWith(test));
  if (!group) throw new Error(`no test ${test}`);
  const check = group.alert_rule_test.find((c) => c.eval_time === evalTime && c.alertname === alertname);
  if (!check) throw new Error(`no check at ${evalTime} for ${alertname} in ${test}`);
  return check.exp_alerts.filter((a) => longWindow === undefined || a.exp_labels['long_window'] === longWindow).map((a) => a.exp_labels['slo']!);
}

/** Runs promtool's lint and unit tests on generated rules; returns the unit-test output. */
function promtoolOn(slos: readonly Slo[], rules = generateSloRules(slos)): { check: ReturnType<typeof promtool>; test: ReturnType<typeof promtool> } {
  const dir = tempFiles({ 'slo-rules.yaml': rules, 'slo-rules.test.yaml': generateSloRuleTests(slos) });
  return { check: promtool(['check', 'rules', '--lint=all', 'slo-rules.yaml'], dir), test: promtool(['test', 'rules', 'slo-rules.test.yaml'], dir) };
}

describe('generated promtool tests', async () => {
  const slos = await loadSlos(FIXTURES);
  const names = slos.map((s) => s.name);
  const file = parse(generateSloRuleTests(slos)) as TestFile;

  it('point at the rule file and evaluate every minute', () => {
    expect(file.rule_files).toEqual(['slo-rules.yaml']);
    expect(file.evaluation_interval).toBe('1m');
    expect(file.tests.every((t) => t.interval === '1m')).toBe(true);
  });

  it('fire each window pair just above its threshold and not just below it', () => {
    for (const [k, long] of ['1h', '6h', '1d', '3d'].entries()) {
      const short = ['5m', '30m', '2h', '6h'][k];
      const severity = k < 2 ? 'page' : 'ticket';
      expect(firing(file, `a steady error ratio just above the threshold of the ${long}/${short} ${severity}`, '6m', 'SLOErrorBudgetBurn', long)).toEqual(names);
      expect(firing(file, `a steady error ratio just below the threshold of the ${long}/${short} ${severity}`, '6m', 'SLOErrorBudgetBurn', long)).toEqual([]);
    }
  });

  it('reset the fast page within minutes of recovery, and never page on a short spike', () => {
    const recovery = 'an hour of errors, then recovery';
    expect(firing(file, recovery, '60m', 'SLOErrorBudgetBurn', '1h')).toEqual(names);
    expect(firing(file, recovery, '66m', 'SLOErrorBudgetBurn', '1h')).toEqual([]);
    expect(firing(file, 'a 5-minute error spike', '30m', 'SLOErrorBudgetBurn', '1h')).toEqual([]);
  });

  it('expect no-data only once the total series have stopped', () => {
    const noData = 'SLONoData stays quiet';
    expect(firing(file, noData, '8m', 'SLONoData')).toEqual([]);
    expect(firing(file, noData, '8m', 'SLOErrorBudgetBurn')).toEqual([]);
    expect(firing(file, noData, '27m', 'SLONoData')).toEqual(names);
    const alert = file.tests.find((t) => t.name.startsWith(noData))!.alert_rule_test.find((c) => c.eval_time === '27m')!.exp_alerts[0]!;
    // absent() keeps the equality labels of the total selector.
    expect(alert.exp_labels).toEqual({ job: 'checkout', service: 'checkout', severity: 'ticket', slo: 'checkout-availability' });
  });

  it('hold at least 8 assertions per SLO', () => {
    for (const name of names) {
      let checks = 0;
      for (const t of file.tests) if (t.name.endsWith('(every SLO)') || t.name.includes(name)) checks += t.alert_rule_test.length;
      expect(checks).toBeGreaterThanOrEqual(8);
    }
  });

  it('are byte-identical for any input order', () => {
    expect(generateSloRuleTests([...slos].reverse())).toBe(generateSloRuleTests(slos));
  });

  it('refuse SLOs whose selectors cannot be told apart', () => {
    const [same] = parseSlos(slo('same', 'requests_total', 'requests_total'));
    expect(() => generateSloRuleTests([same!])).toThrow(SloError);
    expect(() => generateSloRuleTests([same!])).toThrow(/same: its total and its good \(or bad\) selectors name the same series/);
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it('lint clean and pass, for 28d, 4w and 7d windows, good and bad forms, bad within total', () => {
      const { check, test } = promtoolOn(slos);
      expect(check.output).toBe('Checking slo-rules.yaml\n  SUCCESS: 39 rules found\n\n');
      expect(check.status).toBe(0);
      expect(test.output).toContain('SUCCESS');
      expect(test.status).toBe(0);
    });

    it('pass when SLOs share series or one selector covers another', () => {
      const overlapping = parseSlos(
        slo('all-availability', 'errors_total', 'requests_total') +
          slo('api-availability', 'errors_total{job="api"}', 'requests_total{job="api"}') +
          slo('web-availability', 'errors_total{job="web"}', 'requests_total{job="web"}'),
      );
      const { check, test } = promtoolOn(overlapping);
      expect(check.status).toBe(0);
      expect(test.output).toContain('SUCCESS');
      expect(test.status).toBe(0);
    });

    it('fail when a threshold drifts by 5%', () => {
      const rules = generateSloRules(slos).replace('> 0.01344 and', '> 0.014112 and').replace(/> 0\.01344$/m, '> 0.014112');
      expect(rules).toContain('0.014112');
      const { test } = promtoolOn(slos, rules);
      expect(test.status).not.toBe(0);
      expect(test.output).toContain('FAILED');
    });

    it('fail when an alert ignores its short window', () => {
      const rules = generateSloRules(slos).replace(/ and slo:sli_error:ratio_rate5m\{slo="checkout-availability"\} > 0\.01344/, '');
      const { test } = promtoolOn(slos, rules);
      expect(test.status).not.toBe(0);
      expect(test.output).toMatch(/an hour of errors, then recovery[\s\S]*time: 1h6m/);
    });

    it('fail when the no-data alert waits longer than it says', () => {
      const rules = generateSloRules(slos).replace(/for: 10m/g, 'for: 20m');
      const { test } = promtoolOn(slos, rules);
      expect(test.status).not.toBe(0);
      expect(test.output).toContain('alertname: SLONoData, time: 27m');
    });
  });
});
