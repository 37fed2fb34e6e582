/**
 * deploy/rules/stella-alerts.yaml: every alert is documented, linked to its runbook and unit
 * tested both ways, promtool accepts the file and its tests — and the tests notice a change.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runbookPage } from '../../src/index.ts';
import { promtool, requirePromtool, tempFiles } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface TestFile {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const RULES_DIR = join(REPO_ROOT, 'deploy/rules');
const rulesText = readFileSync(join(RULES_DIR, 'stella-alerts.yaml'), 'utf8');
const testsText = readFileSync(join(RULES_DIR, 'stella-alerts.test.yaml'), 'utf8');
const rules = (parse(rulesText) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const doc = readFileSync(join(REPO_ROOT, 'docs/metrics-and-slos.md'), 'utf8');

/** The row of the alert in the "Other alerts" table of docs/metrics-and-slos.md. */
function docRow(alert: string): string[] {
  const line = doc.split('\n').find((l) => l.startsWith(`| \`${alert}\` |`));
  if (!line) throw new Error(`${alert} is not in the alert table of docs/metrics-and-slos.md`);
  return line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
}

describe('StellaOps alert rules', () => {
  it('cover SLO-4: collector failure, exporter backlog, bundle errors, AOC violations, queue depth, policy latency, stack health', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'CollectorExportFailures',
      'CollectorExporterSendFailed',
      'TelemetryExportBacklog',
      'CollectorExporterQueueFull',
      'TelemetryRecordsDropped',
      'TelemetryBundleGenerationErrors',
      'TelemetryBundleGenerationSlow',
      'IngestionAocViolations',
      'TelemetryRecordsQuarantined',
      'QueueDepthHigh',
      'PolicyEvaluationLatencyHigh',
      'TelemetryTargetDown',
      'StellaProcessDefects',
      'TelemetryIncidentModeActive',
      'PrometheusRuleEvaluationFailures',
    ]);
    // The self-metrics the telemetry seeds name all feed an alert.
    for (const metric of ['collector_export_failures_total', 'telemetry_bundle_generation_', 'telemetry_incident_mode']) {
      expect(rules.some((r) => r.expr.includes(metric)), metric).toBe(true);
    }
  });

  it('carry a severity, a summary, a description and a runbook that exists, named after the alert', () => {
    for (const r of rules) {
      expect(['ticket', 'info'], r.alert).toContain(r.labels['severity']);
      expect(Object.keys(r.annotations), r.alert).toEqual(['summary', 'description', 'runbook_url']);
      expect(r.annotations['runbook_url'], r.alert).toBe(`docs/runbooks/${runbookPage(r.alert)}`);
      const page = join(REPO_ROOT, r.annotations['runbook_url']!);
      expect(existsSync(page), page).toBe(true);
      const text = readFileSync(page, 'utf8');
      expect(text.startsWith(`# Runbook: ${r.alert}\n`), page).toBe(true);
      for (const section of ['## What it means', '## Check', '## Fix']) expect(text, `${page}: ${section}`).toContain(section);
    }
  });

  it('are documented with the metric each one reads', () => {
    for (const r of rules) {
      const [, severity, , needs] = docRow(r.alert);
      expect(severity, r.alert).toBe(r.labels['severity']);
      const metrics = [...needs!.matchAll(/`([a-z_:]+)[^`]*`/g)].map((m) => m[1]!);
      expect(metrics.length, r.alert).toBeGreaterThan(0);
      for (const m of metrics) expect(r.expr, `${r.alert} reads ${m}`).toContain(m.replace(/_$/, ''));
    }
  });

  it('are each asserted firing and quiet in the unit tests', () => {
    const checks = (parse(testsText) as TestFile).tests.flatMap((t) => t.alert_rule_test);
    for (const r of rules) {
      const mine = checks.filter((c) => c.alertname === r.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${r.alert} fires`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${r.alert} stays quiet`).toBe(true);
    }
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it('lint clean and pass their unit tests', () => {
      const check = promtool(['check', 'rules', '--lint=all', 'stella-alerts.yaml'], RULES_DIR);
      expect(check.output).toBe('Checking stella-alerts.yaml\n  SUCCESS: 15 rules found\n\n');
      const test = promtool(['test', 'rules', 'stella-alerts.test.yaml'], RULES_DIR);
      expect(test.output).toContain('SUCCESS');
      expect(test.status).toBe(0);
    });

    it.each([
      ['a bundle error alert that misses the first failure', (t: string) => t.replace(/\n\s+or\n\s+sum by \(job\) \(telemetry_bundle_generation_failures_total unless[^\n]+/, ''), 'TelemetryBundleGenerationErrors, time: 12m'],
      ['a backlog threshold at the full queue', (t: string) => t.replace('(telemetry_export_queue_depth) > 1024', '(telemetry_export_queue_depth) > 2048'), 'TelemetryExportBacklog, time: 15m'],
      ['drops of every reason', (t: string) => t.replace('{reason=~"queue_full|export_failed|endpoint_down|spill_full"}', ''), 'TelemetryRecordsDropped, time: 15m'],
      ['a target-down alert without its delay', (t: string) => t.replace(/(expr: up == 0\n\s+)for: 5m\n\s+/, '$1'), 'TelemetryTargetDown, time: 5m'],
    ])('fail for %s', (_what, mutate, failure) => {
      const mutated = mutate(rulesText);
      expect(mutated).not.toBe(rulesText);
      const dir = tempFiles({ 'stella-alerts.yaml': mutated, 'stella-alerts.test.yaml': testsText });
      const test = promtool(['test', 'rules', 'stella-alerts.test.yaml'], dir);
      expect(test.status).not.toBe(0);
      expect(test.output).toContain(failure);
    });
  });
});
