/**
 * A `promtool test rules` file for the generated SLO rules. Every SLO goes through the same
 * scenarios, all SLOs at once where their series do not interfere (one SLO alone otherwise):
 *
 * - `above <w>` / `below <w>`: a steady error ratio 2% above (below) each pair's threshold —
 *   the pair with long window `<w>` fires (does not fire);
 * - `recovery`: an hour of errors well above the fastest threshold, then none — the 1h page
 *   fires, and is gone 6 minutes after recovery (its 5m window is clean);
 * - `spike`: five minutes of errors after 25 quiet ones — the 5m window exceeds the page
 *   threshold but the 1h window does not, so nothing pages;
 * - `no data`: the total series stop — `SLONoData` is quiet while they report and fires once
 *   they have been gone for the lookback plus `noDataFor`.
 *
 * Expected alerts come from a model of Prometheus' evaluation (promql-model.ts) and list every
 * alert of the file firing at that time, so a test also catches alerts that should not fire.
 */
import { SloError } from './errors.js';
import { parseDuration } from './duration.js';
import { collectSlos, type Slo } from './openslo.js';
import {
  burnDecision,
  counterSeries,
  errorRatio,
  noDataFires,
  noDataSeriesLabels,
  STEP_SECONDS,
  VARIANTS,
  type Decision,
  type ModelSeries,
} from './promql-model.js';
import {
  DEFAULT_HEADER,
  SLO_BURN_ALERT,
  SLO_NO_DATA_ALERT,
  sloBurnRateAlerts,
  sloRuleGroup,
  type AlertingRule,
  type SloBurnRateAlert,
  type SloRuleOptions,
} from './rules.js';
import { exampleSeries, formatSeries, matchesSelector } from './selector.js';
import { toYaml } from './yaml-out.js';

export interface SloRuleTestOptions extends SloRuleOptions {
  /** `rule_files` of the test file, relative to it. Default `['slo-rules.yaml']`. */
  ruleFiles?: string[];
}

/** Events per minute in every SLO's total. */
const EVENTS_PER_MINUTE = 1000;
/** Relative distance every asserted comparison keeps from its threshold, in every model variant. */
const MIN_MARGIN = 0.005;
const NO_DATA_STOP_MINUTE = 10;

type AlertName = typeof SLO_BURN_ALERT | typeof SLO_NO_DATA_ALERT;

/** What a scenario must show for one SLO (checked on the model before the test is written). */
interface Intent {
  minute: number;
  alert: AlertName;
  /** Index of the window pair, for burn alerts. */
  pair?: number;
  fires: boolean;
}

interface Scenario {
  name: string;
  /** Last sample (minute) of the input series. */
  minutes: number;
  /**
   * Error ratio of an SLO's events at each minute (1-based). `attempt` picks among
   * `attempts` variants of the scenario's ratios, tried in turn when one lands too close to a
   * threshold of that SLO.
   */
  errorRatio(pairs: readonly SloBurnRateAlert[], attempt: number): (minute: number) => number;
  attempts: number;
  intents(pairs: readonly SloBurnRateAlert[]): Intent[];
  /** Evaluations asserted besides the intents' (same for every SLO). */
  extraChecks?: { minute: number; alert: AlertName }[];
  /** Whether the scenario means anything for this SLO beyond its intents; a reason when not. */
  precondition?(all: readonly ModelSeries[], slo: Slo, pairs: readonly SloBurnRateAlert[]): string | undefined;
}

/** How far from the threshold the steady ratios of `above`/`below` sit, by attempt. */
const STEADY_OFFSETS = [0.02, 0.03, 0.015, 0.01];
/** Burst ratio of `recovery` and `spike`, as multiples of the page threshold, by attempt. */
const BURST_MULTIPLES = [2, 3, 2.5, 1.5, 4];

function scenarios(noDataForSeconds: number): Scenario[] {
  const out: Scenario[] = [];
  for (let k = 0; k < 4; k++) {
    out.push({
      name: `above-${k}`,
      minutes: 6,
      attempts: STEADY_OFFSETS.length,
      errorRatio: (pairs, attempt) => {
        const t = pairs[k]!.threshold;
        const r = Math.min(t * (1 + STEADY_OFFSETS[attempt]!), (t + 1) / 2);
        return () => r;
      },
      intents: () => [{ minute: 6, alert: SLO_BURN_ALERT, pair: k, fires: true }],
    });
    out.push({
      name: `below-${k}`,
      minutes: 6,
      attempts: STEADY_OFFSETS.length,
      errorRatio: (pairs, attempt) => {
        const r = pairs[k]!.threshold * (1 - STEADY_OFFSETS[attempt]!);
        return () => r;
      },
      intents: () => [{ minute: 6, alert: SLO_BURN_ALERT, pair: k, fires: false }],
    });
  }
  const burst = (pairs: readonly SloBurnRateAlert[], attempt: number): number => Math.min(1, pairs[0]!.threshold * BURST_MULTIPLES[attempt]!);
  out.push({
    name: 'recovery',
    minutes: 66,
    attempts: BURST_MULTIPLES.length,
    errorRatio: (pairs, attempt) => {
      const r = burst(pairs, attempt);
      return (m) => (m <= 60 ? r : 0);
    },
    intents: () => [
      { minute: 60, alert: SLO_BURN_ALERT, pair: 0, fires: true },
      { minute: 66, alert: SLO_BURN_ALERT, pair: 0, fires: false },
    ],
  });
  out.push({
    name: 'spike',
    minutes: 30,
    attempts: BURST_MULTIPLES.length,
    errorRatio: (pairs, attempt) => {
      const r = burst(pairs, attempt);
      return (m) => (m > 25 ? r : 0);
    },
    intents: () => [{ minute: 30, alert: SLO_BURN_ALERT, pair: 0, fires: false }],
    precondition: (all, slo, pairs) =>
      VARIANTS.every((v) => (errorRatio(all, slo, 30 * STEP_SECONDS, pairs[0]!.shortWindow, v) ?? 0) > pairs[0]!.threshold * (1 + MIN_MARGIN))
        ? undefined
        : 'the spike does not exceed the page threshold over the short window',
  });
  const fires = NO_DATA_STOP_MINUTE + 5 + noDataForSeconds / 60 + 2;
  out.push({
    name: 'no-data',
    minutes: NO_DATA_STOP_MINUTE,
    attempts: 1,
    errorRatio: () => () => 0,
    intents: () => [
      { minute: NO_DATA_STOP_MINUTE - 2, alert: SLO_NO_DATA_ALERT, fires: false },
      { minute: fires, alert: SLO_NO_DATA_ALERT, fires: true },
    ],
    extraChecks: [{ minute: NO_DATA_STOP_MINUTE - 2, alert: SLO_BURN_ALERT }],
  });
  return out;
}

const SCENARIO_TITLES: Record<string, () => string> = {
  recovery: () => 'an hour of errors, then recovery: the 1h page fires and resets within 6 minutes',
  spike: () => 'a 5-minute error spike after a quiet period does not page',
  'no-data': () => 'SLONoData stays quiet while the total series report and fires after they stop',
};

function scenarioTitle(name: string, pairs: readonly SloBurnRateAlert[]): string {
  const m = /^(above|below)-(\d)$/.exec(name);
  if (m) {
    const p = pairs[Number(m[2])]!;
    const what = `the ${p.longWindow}/${p.shortWindow} ${p.severity}`;
    return m[1] === 'above' ? `a steady error ratio just above the threshold of ${what} fires it` : `a steady error ratio just below the threshold of ${what} does not fire it`;
  }
  return SCENARIO_TITLES[name]!();
}

function key(labels: Record<string, string>): string {
  return formatSeries(labels);
}

function round6(n: number): number {
  return Number(n.toFixed(6));
}

interface SloSeries {
  /** Series text → per-minute increments. */
  increments: Map<string, { labels: Record<string, string>; increments: number[] }>;
}

/** The input series an SLO needs for a scenario, or the reason it cannot have them. */
function seriesFor(slo: Slo, scenario: Scenario, pairs: readonly SloBurnRateAlert[], attempt: number): SloSeries {
  const ratio = scenario.errorRatio(pairs, attempt);
  const sigSelector = slo.indicator.good ?? slo.indicator.bad;
  const sigLabels = exampleSeries(sigSelector);
  const totalLabels = exampleSeries(slo.indicator.total);
  const untestable = (why: string): never => {
    throw new SloError('slo.untestable', `SLO ${slo.name}: ${why}`, { source: slo.source });
  };
  if (!sigLabels) untestable(`no test series can be named for ${sigSelector.text} (give regexes a literal first alternative)`);
  if (!totalLabels) untestable(`no test series can be named for ${slo.indicator.total.text} (give regexes a literal first alternative)`);
  if (key(sigLabels!) === key(totalLabels!)) untestable('its total and its good (or bad) selectors name the same series');
  const sig: number[] = [];
  const total: number[] = [];
  const totalHoldsSig = matchesSelector(slo.indicator.total, sigLabels!);
  for (let m = 1; m <= scenario.minutes; m++) {
    const bad = round6(ratio(m) * EVENTS_PER_MINUTE);
    const sigInc = slo.indicator.good ? round6(EVENTS_PER_MINUTE - bad) : bad;
    sig.push(sigInc);
    // When the total selector also selects the good (bad) series, its own series carries the rest.
    total.push(totalHoldsSig ? round6(EVENTS_PER_MINUTE - sigInc) : EVENTS_PER_MINUTE);
  }
  return {
    increments: new Map([
      [key(totalLabels!), { labels: totalLabels!, increments: total }],
      [key(sigLabels!), { labels: sigLabels!, increments: sig }],
    ]),
  };
}

interface ExpectedAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}

interface Evaluation {
  /** Expected alerts per check, keyed `minute|alert`. */
  expected: Map<string, ExpectedAlert[]>;
  /** SLOs of the group whose intents or margins fail, with why. */
  failures: Map<string, string>;
  /** Unstable decisions of SLOs outside the group. */
  outsiders: string[];
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]!]));
}

class TestBuilder {
  private readonly rules: Map<string, AlertingRule[]>;
  private readonly pairs: Map<string, SloBurnRateAlert[]>;
  private readonly noDataForSeconds: number;

  constructor(
    private readonly slos: readonly Slo[],
    opts: SloRuleOptions,
  ) {
    this.rules = new Map(slos.map((s) => [s.name, sloRuleGroup(s, opts).rules.filter((r): r is AlertingRule => 'alert' in r)]));
    this.pairs = new Map(slos.map((s) => [s.name, sloBurnRateAlerts(s)]));
    const noData = this.rules.get(slos[0]!.name)!.find((r) => r.alert === SLO_NO_DATA_ALERT)!;
    this.noDataForSeconds = parseDuration(noData.for!)!;
  }

  scenarios(): Scenario[] {
    return scenarios(this.noDataForSeconds);
  }

  /** Series of the SLOs in the group; SLOs whose series clash with earlier ones are left out. */
  series(group: readonly Slo[], scenario: Scenario, attempts: ReadonlyMap<string, number>): { series: ModelSeries[]; clashing: Slo[] } {
    const merged = new Map<string, { labels: Record<string, string>; increments: number[] }>();
    const clashing: Slo[] = [];
    for (const slo of group) {
      const own = seriesFor(slo, scenario, this.pairs.get(slo.name)!, attempts.get(slo.name) ?? 0);
      const clash = [...own.increments].some(([k, s]) => {
        const prior = merged.get(k);
        return prior !== undefined && prior.increments.join() !== s.increments.join();
      });
      if (clash) {
        clashing.push(slo);
        continue;
      }
      for (const [k, s] of own.increments) merged.set(k, s);
    }
    const series = [...merged.keys()].sort().map((k) => counterSeries(merged.get(k)!.labels, merged.get(k)!.increments));
    return { series, clashing };
  }

  private checks(scenario: Scenario): { minute: number; alert: AlertName }[] {
    const all = [...scenario.intents(this.pairs.get(this.slos[0]!.name)!), ...(scenario.extraChecks ?? [])];
    const seen = new Map<string, { minute: number; alert: AlertName }>();
    for (const c of all) seen.set(`${c.minute}|${c.alert}`, { minute: c.minute, alert: c.alert });
    return [...seen.values()].sort((a, b) => a.minute - b.minute || (a.alert < b.alert ? -1 : 1));
  }

  evaluate(group: readonly Slo[], scenario: Scenario, series: readonly ModelSeries[]): Evaluation {
    const inGroup = new Set(group.map((s) => s.name));
    const expected = new Map<string, ExpectedAlert[]>();
    const failures = new Map<string, string>();
    const outsiders: string[] = [];
    const unstable = (slo: Slo, why: string): void => {
      if (inGroup.has(slo.name)) failures.set(slo.name, failures.get(slo.name) ?? why);
      else outsiders.push(`${slo.name}: ${why}`);
    };
    const fired = new Map<string, boolean>();
    for (const check of this.checks(scenario)) {
      const t = check.minute * STEP_SECONDS;
      const alerts: ExpectedAlert[] = [];
      for (const slo of this.slos) {
        const rules = this.rules.get(slo.name)!;
        if (check.alert === SLO_BURN_ALERT) {
          this.pairs.get(slo.name)!.forEach((pair, i) => {
            const ds: Decision[] = VARIANTS.map((v) => burnDecision(series, slo, pair, t, v));
            const fires = ds[0]!.fires;
            if (ds.some((d) => d.fires !== fires || d.margin < MIN_MARGIN)) {
              unstable(slo, `the ${pair.longWindow} pair is too close to its threshold at ${check.minute}m in scenario ${scenario.name}`);
            }
            fired.set(`${slo.name}|${check.minute}|${check.alert}|${i}`, fires);
            if (fires) {
              const rule = rules.find((r) => r.alert === SLO_BURN_ALERT && r.labels['long_window'] === pair.longWindow)!;
              alerts.push({ exp_labels: sortedLabels(rule.labels), exp_annotations: rule.annotations });
            }
          });
        } else {
          const ds = VARIANTS.map((v) => noDataFires(series, slo, t, this.noDataForSeconds, v));
          if (ds.some((d) => d !== ds[0])) unstable(slo, `no-data is undecided at ${check.minute}m`);
          fired.set(`${slo.name}|${check.minute}|${check.alert}|`, ds[0]!);
          if (ds[0]) {
            const rule = rules.find((r) => r.alert === SLO_NO_DATA_ALERT)!;
            alerts.push({ exp_labels: sortedLabels({ ...noDataSeriesLabels(slo), ...rule.labels }), exp_annotations: rule.annotations });
          }
        }
      }
      expected.set(`${check.minute}|${check.alert}`, alerts);
    }
    for (const slo of group) {
      const pairs = this.pairs.get(slo.name)!;
      for (const intent of scenario.intents(pairs)) {
        const got = fired.get(`${slo.name}|${intent.minute}|${intent.alert}|${intent.pair ?? ''}`);
        if (got !== intent.fires) {
          unstable(slo, `in scenario ${scenario.name} the ${intent.alert}${intent.pair !== undefined ? ` ${pairs[intent.pair]!.longWindow}` : ''} alert would ${intent.fires ? 'not fire' : 'fire'} at ${intent.minute}m (its selectors overlap others')`);
        }
      }
      const why = scenario.precondition?.(series, slo, pairs);
      if (why) unstable(slo, why);
    }
    return { expected, failures, outsiders };
  }

  /**
   * Splits the SLOs into test groups for a scenario: all together where their series do not
   * interfere, each SLO trying the scenario's variants in turn, and alone as a last resort.
   */
  groups(scenario: Scenario): TestGroup[] {
    const out: TestGroup[] = [];
    const attempts = new Map<string, number>();
    let pending = [...this.slos];
    const alone: Slo[] = [];
    while (pending.length > 0) {
      const { series, clashing } = this.series(pending, scenario, attempts);
      const members = pending.filter((s) => !clashing.includes(s));
      const evaluation = this.evaluate(members, scenario, series);
      if (evaluation.failures.size === 0 && evaluation.outsiders.length === 0) {
        out.push({ slos: members, series, evaluation });
        pending = clashing;
        continue;
      }
      const failing = members.filter((s) => evaluation.failures.has(s.name));
      const moved: Slo[] = [];
      for (const slo of failing) {
        const next = (attempts.get(slo.name) ?? 0) + 1;
        if (next < scenario.attempts) attempts.set(slo.name, next);
        else moved.push(slo);
      }
      if (failing.length === 0) moved.push(members[members.length - 1]!);
      alone.push(...moved);
      pending = pending.filter((s) => !moved.includes(s));
    }
    for (const slo of alone) out.push(this.groupAlone(slo, scenario));
    return out;
  }

  private groupAlone(slo: Slo, scenario: Scenario): TestGroup {
    let why = '';
    for (let attempt = 0; attempt < scenario.attempts; attempt++) {
      const { series } = this.series([slo], scenario, new Map([[slo.name, attempt]]));
      const evaluation = this.evaluate([slo], scenario, series);
      const failure = [...evaluation.failures.values(), ...evaluation.outsiders][0];
      if (!failure) return { slos: [slo], series, evaluation };
      why ||= failure;
    }
    throw new SloError('slo.untestable', `SLO ${slo.name}: ${why}`, { source: slo.source });
  }
}

interface TestGroup {
  slos: Slo[];
  series: ModelSeries[];
  evaluation: Evaluation;
}

/**
 * The `promtool test rules` file for `generateSloRules(slos, opts)` (same options), with at
 * least 14 assertions per SLO. Throws `slo.untestable` when an SLO's selectors cannot be given
 * input series that tell its thresholds apart.
 */
export function generateSloRuleTests(slos: readonly Slo[], opts: SloRuleTestOptions = {}): string {
  const sorted = collectSlos(slos);
  const tests: unknown[] = [];
  if (sorted.length > 0) {
    const builder = new TestBuilder(sorted, opts);
    for (const scenario of builder.scenarios()) {
      for (const group of builder.groups(scenario)) {
        const names = group.slos.length === sorted.length ? 'every SLO' : group.slos.map((s) => s.name).join(', ');
        tests.push({
          name: `${scenarioTitle(scenario.name, sloBurnRateAlerts(group.slos[0]!))} (${names})`,
          interval: `${STEP_SECONDS / 60}m`,
          input_series: group.series.map((s) => ({ series: formatSeries(s.labels), values: s.notation })),
          alert_rule_test: [...group.evaluation.expected].map(([check, alerts]) => {
            const [minute, alertname] = check.split('|');
            return { eval_time: `${minute}m`, alertname, exp_alerts: alerts };
          }),
        });
      }
    }
  }
  return toYaml(
    { rule_files: opts.ruleFiles ?? ['slo-rules.yaml'], evaluation_interval: `${STEP_SECONDS / 60}m`, tests },
    opts.header ?? DEFAULT_HEADER,
  );
}
