/**
 * The service's own SLO evaluator (SLO-2, SLO-6): the OpenSLO files the Prometheus rules are
 * generated from, read with the same library (collector-config), evaluated with the same
 * windows and thresholds (`sloBurnRateAlerts`) over the same error ratio (`sliErrorRatioExpr`'s
 * definition) — asked of the metrics query, so the embedded store or Prometheus answers. One
 * definition, two evaluators: a test holds this one to Prometheus evaluating the generated
 * recording rules on the same samples.
 */
import { ERROR_RATIO_WINDOWS, sloBurnRateAlerts, type Slo, type SloBurnRateAlert } from '@stellaops/collector-config';
import type { MetricsQuery } from '../obs/metrics-query.js';

export interface BurnRatePair {
  severity: SloBurnRateAlert['severity'];
  long_window: string;
  short_window: string;
  /** Burn rate both windows must exceed for the pair to fire (the alert's). */
  burn_rate_threshold: number;
  /** The same as an error ratio: burn rate × (1 − target). */
  error_ratio_threshold: number;
  /** Error ratio / error budget over each window; null without data. */
  long_burn_rate: number | null;
  short_burn_rate: number | null;
  /** Both windows' error ratios above the threshold, as `SLOErrorBudgetBurn` fires. */
  firing: boolean;
}

export type SloState = 'ok' | 'ticket' | 'page' | 'no_data';

export interface SloStatus {
  name: string;
  display_name: string | null;
  description: string | null;
  service: string;
  objective: { target: number; display_name: string | null };
  /** The rolling window of the objective (`30d`). */
  period: string;
  sli: {
    /** Selector of good events (or bad events) and of all events. */
    good: string | null;
    bad: string | null;
    total: string;
    /** Share of good events over the period; null without data. */
    value: number | null;
  };
  /** Error ratio over each window of the rules and over the period. */
  error_ratios: Record<string, number | null>;
  error_budget: {
    /** 1 − target. */
    total: number;
    /** Share of the period's budget spent (error ratio over the period / budget); null without data. */
    consumed: number | null;
    /** 1 − consumed; negative once overspent. */
    remaining: number | null;
  };
  burn_rates: BurnRatePair[];
  /** page or ticket when a pair of that severity fires; no_data without events over the period. */
  state: SloState;
}

export interface TenantEvaluation {
  tenant: string;
  /** Time the ratios were evaluated at (ms). */
  atMs: number;
  slos: SloStatus[];
}

function ratioOrNull(v: number | null | undefined): number | null {
  return v === undefined || v === null || !Number.isFinite(v) ? null : v;
}

export class SloEvaluator {
  constructor(private readonly metrics: MetricsQuery) {}

  /** Evaluates the SLOs for a tenant at `atMs`. Throws what the metrics query throws. */
  async evaluate(tenant: string, slos: readonly Slo[], atMs: number): Promise<TenantEvaluation> {
    const out: SloStatus[] = [];
    for (const slo of slos) out.push(await this.evaluateOne(tenant, slo, atMs));
    return { tenant, atMs, slos: out };
  }

  async evaluateOne(tenant: string, slo: Slo, atMs: number): Promise<SloStatus> {
    const windows = [...new Set([...ERROR_RATIO_WINDOWS, slo.period])];
    const ratios = await this.metrics.sloErrorRatios(tenant, slo, windows, atMs);
    const ratio = (w: string): number | null => ratioOrNull(ratios.get(w));
    const burn = (w: string): number | null => {
      const r = ratio(w);
      return r === null ? null : r / slo.errorBudget;
    };
    const pairs: BurnRatePair[] = sloBurnRateAlerts(slo).map((p) => {
      const long = ratio(p.longWindow);
      const short = ratio(p.shortWindow);
      return {
        severity: p.severity,
        long_window: p.longWindow,
        short_window: p.shortWindow,
        burn_rate_threshold: p.burnRate,
        error_ratio_threshold: p.threshold,
        long_burn_rate: burn(p.longWindow),
        short_burn_rate: burn(p.shortWindow),
        firing: long !== null && short !== null && long > p.threshold && short > p.threshold,
      };
    });
    const periodRatio = ratio(slo.period);
    const consumed = periodRatio === null ? null : periodRatio / slo.errorBudget;
    const state: SloState = pairs.some((p) => p.firing && p.severity === 'page')
      ? 'page'
      : pairs.some((p) => p.firing)
        ? 'ticket'
        : periodRatio === null && windows.every((w) => ratio(w) === null)
          ? 'no_data'
          : 'ok';
    return {
      name: slo.name,
      display_name: slo.displayName ?? null,
      description: slo.description ?? null,
      service: slo.service,
      objective: { target: slo.target, display_name: slo.objectiveName ?? null },
      period: slo.period,
      sli: {
        good: slo.indicator.good?.text ?? null,
        bad: slo.indicator.bad?.text ?? null,
        total: slo.indicator.total.text,
        value: periodRatio === null ? null : 1 - periodRatio,
      },
      error_ratios: Object.fromEntries(windows.map((w) => [w, ratio(w)])),
      error_budget: { total: slo.errorBudget, consumed, remaining: consumed === null ? null : 1 - consumed },
      burn_rates: pairs,
      state,
    };
  }
}

/** The effective burn rate of a firing pair: the lower of its two windows'. */
export function pairBurnRate(pair: BurnRatePair): number {
  return Math.min(pair.long_burn_rate ?? 0, pair.short_burn_rate ?? 0);
}
