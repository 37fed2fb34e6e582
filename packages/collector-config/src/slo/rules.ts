/**
 * Prometheus recording and alerting rules for SLOs: per SLO one group with the error ratio of
 * every burn-rate window, the objective, one `SLOErrorBudgetBurn` alert per window pair and a
 * `SLONoData` alert — 13 rules.
 *
 * The alert contract the service's Alertmanager receiver and the runbooks rely on:
 * - `SLOErrorBudgetBurn{slo, service, severity="page"|"ticket", long_window="1h"|"6h"|"1d"|"3d"}`
 * - `SLONoData{slo, service, severity="ticket", <equality labels of the total selector>}`
 */
import { burnRateWindows, burnThreshold, ERROR_RATIO_WINDOWS, type BurnRateWindow } from './burn-rate.js';
import { describeDuration, formatDuration, parseDuration } from './duration.js';
import { SloError } from './errors.js';
import { collectSlos, type Slo } from './openslo.js';
import { toYaml } from './yaml-out.js';

export const SLO_BURN_ALERT = 'SLOErrorBudgetBurn';
export const SLO_NO_DATA_ALERT = 'SLONoData';

export interface SloRuleOptions {
  /**
   * Prefix of every `runbook_url`; the page (`slo-error-budget-burn.md`, `slo-no-data.md`) is
   * appended. Default `docs/runbooks/` (the pages shipped with the rules).
   */
  runbookBaseUrl?: string;
  /** How long the total selector must match no series before `SLONoData` fires. Default `10m`. */
  noDataFor?: string;
  /** Comment lines at the top of the file. Default: a notice that the file is generated. */
  header?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertingRule)[];
}

/** One window pair of an SLO with the error ratio above which it alerts. */
export interface SloBurnRateAlert extends BurnRateWindow {
  /** burnRate × (1 − target). */
  threshold: number;
}

export const DEFAULT_HEADER = 'Generated from OpenSLO definitions by @stellaops/collector-config: edit the SLOs, not this file.';
const DEFAULT_NO_DATA_FOR = '10m';

/** Name of the recorded error ratio over a window: `slo:sli_error:ratio_rate5m`. */
export function sliErrorRecord(window: string): string {
  return `slo:sli_error:ratio_rate${window}`;
}

/**
 * PromQL for an SLO's error ratio over a window — what the recording rules hold, and what the
 * service's evaluator asks Prometheus for. Missing good or bad series count as zero events, so
 * an SLI whose good series was never created reads as 100% errors, not as no data.
 */
export function sliErrorRatioExpr(slo: Slo, window: string): string {
  const rate = (selector: string): string => `sum(rate(${selector}[${window}]))`;
  const total = rate(slo.indicator.total.text);
  if (slo.indicator.good) return `1 - ((${rate(slo.indicator.good.text)} or vector(0)) / ${total})`;
  return `(${rate(slo.indicator.bad.text)} or vector(0)) / ${total}`;
}

/** The SLO's four window pairs with their thresholds, fastest first. */
export function sloBurnRateAlerts(slo: Slo): SloBurnRateAlert[] {
  return burnRateWindows(slo.periodSeconds).map((w) => ({ ...w, threshold: burnThreshold(w.burnRate, slo.errorBudget) }));
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`;
}

function objectiveText(slo: Slo): string {
  return slo.displayName ?? slo.objectiveName ?? slo.description ?? `SLO ${slo.name} of ${slo.service}`;
}

/** Runbook page of an alert: `SLOErrorBudgetBurn` → `slo-error-budget-burn.md`. */
export function runbookPage(alert: string): string {
  return `${alert
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}.md`;
}

function resolveNoDataFor(opts: SloRuleOptions): string {
  const text = opts.noDataFor ?? DEFAULT_NO_DATA_FOR;
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds % 60 !== 0) throw new SloError('slo.invalid', `noDataFor must be whole minutes such as 10m: ${JSON.stringify(text)}`);
  return formatDuration(seconds);
}

/** The rule group of one SLO, as structured data (what `generateSloRules` writes). */
export function sloRuleGroup(slo: Slo, opts: SloRuleOptions = {}): RuleGroup {
  const base = opts.runbookBaseUrl ?? 'docs/runbooks/';
  const noDataFor = resolveNoDataFor(opts);
  const labels = { slo: slo.name, service: slo.service };
  const rules: (RecordingRule | AlertingRule)[] = [
    { record: 'slo:objective:ratio', expr: `vector(${slo.target})`, labels: { ...labels } },
    ...ERROR_RATIO_WINDOWS.map((w) => ({ record: sliErrorRecord(w), expr: sliErrorRatioExpr(slo, w), labels: { ...labels } })),
  ];
  const select = `{slo="${slo.name}"}`;
  for (const pair of sloBurnRateAlerts(slo)) {
    const t = String(pair.threshold);
    rules.push({
      alert: SLO_BURN_ALERT,
      expr: `${sliErrorRecord(pair.longWindow)}${select} > ${t} and ${sliErrorRecord(pair.shortWindow)}${select} > ${t}`,
      labels: { ...labels, severity: pair.severity, long_window: pair.longWindow },
      annotations: {
        summary: `${slo.name}: error budget burning ${pair.burnRate}x too fast over ${pair.longWindow} and ${pair.shortWindow}`,
        description:
          `${objectiveText(slo)} (objective ${percent(slo.target)} over ${slo.period}). ` +
          `More than ${percent(pair.threshold)} of events missed the objective over both the last ${pair.longWindow} and the last ${pair.shortWindow}; ` +
          `at this pace the ${slo.period} error budget is gone in ${describeDuration(slo.periodSeconds / pair.burnRate)}.`,
        runbook_url: `${base}${runbookPage(SLO_BURN_ALERT)}`,
      },
    });
  }
  rules.push({
    alert: SLO_NO_DATA_ALERT,
    expr: `absent(${slo.indicator.total.text})`,
    for: noDataFor,
    labels: { ...labels, severity: 'ticket' },
    annotations: {
      summary: `${slo.name}: no series for its total events`,
      description:
        `No series has matched ${slo.indicator.total.text} for ${noDataFor}: ${objectiveText(slo)} cannot be evaluated and its burn-rate alerts cannot fire. ` +
        'The service may be down or no longer scraped, or the metric was renamed.',
      runbook_url: `${base}${runbookPage(SLO_NO_DATA_ALERT)}`,
    },
  });
  return { name: `slo-${slo.name}`, rules };
}

/** Prometheus rule-file YAML for the SLOs, one group per SLO in name order; byte-identical for the same input. */
export function generateSloRules(slos: readonly Slo[], opts: SloRuleOptions = {}): string {
  const groups = collectSlos(slos).map((slo) => sloRuleGroup(slo, opts));
  return toYaml({ groups }, opts.header ?? DEFAULT_HEADER);
}
