/**
 * The OpenSLO v1 subset the rules are generated from: `kind: SLO` with an inline ratio SLI on
 * Prometheus counters, one objective, one rolling window and occurrence budgeting. Everything
 * else OpenSLO defines is refused by name with what to write instead, and anything it does not
 * define is refused as unknown — a typo never silently drops a setting.
 */
import { burnRateWindows, burnThreshold } from './burn-rate.js';
import { formatDuration, parseDuration } from './duration.js';
import { SloError, type SloErrorCode } from './errors.js';
import { parseSelector, type SeriesSelector } from './selector.js';

/** An SLI as good events (or bad events) over all events, each a Prometheus counter selector. */
export type RatioIndicator =
  | { name?: string; good: SeriesSelector; bad?: undefined; total: SeriesSelector }
  | { name?: string; bad: SeriesSelector; good?: undefined; total: SeriesSelector };

export interface Slo {
  /** `metadata.name`: a DNS label, the `slo` label of every rule and alert. */
  name: string;
  displayName?: string;
  description?: string;
  /** `spec.service`, the `service` label of every rule and alert. */
  service: string;
  indicator: RatioIndicator;
  /** `spec.objectives[0].target`, e.g. 0.99. */
  target: number;
  /** `spec.objectives[0].displayName`. */
  objectiveName?: string;
  /** 1 − target. */
  errorBudget: number;
  /** The rolling window, canonical (`30d`), and in seconds. */
  period: string;
  periodSeconds: number;
  budgetingMethod: 'Occurrences';
  /** Where it was read: `file#document`, when loaded from text. */
  source?: string;
}

/** How a field is refused when present: undefined = accepted; a string = unsupported, with this hint. */
type Fields = Record<string, string | undefined>;

const TOP: Fields = { apiVersion: undefined, kind: undefined, metadata: undefined, spec: undefined };
const METADATA: Fields = { name: undefined, displayName: undefined, labels: undefined, annotations: undefined };
const SPEC: Fields = {
  description: undefined,
  service: undefined,
  indicator: undefined,
  indicatorRef: 'write the SLI inline under spec.indicator',
  timeWindow: undefined,
  budgetingMethod: undefined,
  objectives: undefined,
  alertPolicies: 'the alerts are generated from the objective (multiwindow, multi-burn-rate)',
};
const INDICATOR: Fields = { metadata: undefined, spec: undefined };
const INDICATOR_SPEC: Fields = { description: undefined, ratioMetric: undefined, thresholdMetric: 'use ratioMetric' };
const RATIO: Fields = {
  counter: undefined,
  good: undefined,
  bad: undefined,
  total: undefined,
  rawType: 'give good (or bad) and total counters; precomputed ratios cannot be burn-rated',
  raw: 'give good (or bad) and total counters; precomputed ratios cannot be burn-rated',
};
const METRIC: Fields = { metricSource: undefined };
const METRIC_SOURCE: Fields = { type: undefined, spec: undefined, metricSourceRef: 'write the query inline under metricSource.spec.query' };
const METRIC_SOURCE_SPEC: Fields = { query: undefined };
const OBJECTIVE: Fields = {
  displayName: undefined,
  target: undefined,
  targetPercent: 'use target (a ratio, e.g. 0.99)',
  op: 'ratio objectives take only a target',
  value: 'ratio objectives take only a target',
  timeSliceTarget: 'budgetingMethod is Occurrences',
  timeSliceWindow: 'budgetingMethod is Occurrences',
  indicator: 'one SLI per SLO, under spec.indicator',
  indicatorRef: 'one SLI per SLO, under spec.indicator',
  compositeWeight: 'composite SLOs are not supported',
};
const TIME_WINDOW: Fields = { duration: undefined, isRolling: undefined, calendar: 'use a rolling window (isRolling: true)' };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where a document came from and how to find a field's line. */
export interface DocumentContext {
  source?: string;
  lineOf?: (path: readonly (string | number)[]) => number | undefined;
}

type Path = readonly (string | number)[];

function pathText(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

class Checker {
  constructor(private readonly ctx: DocumentContext) {}

  fail(code: SloErrorCode, path: Path, message: string): never {
    const field = pathText(path);
    throw new SloError(code, field ? `${field} ${message}` : message, {
      path: field || undefined,
      source: this.ctx.source,
      line: this.ctx.lineOf?.(path),
    });
  }

  mapping(value: unknown, path: Path, fields: Fields): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail('slo.invalid', path, 'must be a mapping');
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!(key in fields)) this.fail('slo.invalid', [...path, key], 'is not a field of an OpenSLO v1 SLO here');
      const hint = fields[key];
      if (hint !== undefined) this.fail('slo.unsupported', [...path, key], `is not supported: ${hint}`);
    }
    return obj;
  }

  string(value: unknown, path: Path): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail('slo.invalid', path, 'must be a non-empty string');
    return value as string;
  }

  optionalString(obj: Record<string, unknown>, key: string, path: Path): string | undefined {
    return obj[key] === undefined ? undefined : this.string(obj[key], [...path, key]);
  }

  required(obj: Record<string, unknown>, key: string, path: Path): unknown {
    if (obj[key] === undefined || obj[key] === null) this.fail('slo.invalid', [...path, key], 'is required');
    return obj[key];
  }

  dnsLabel(value: unknown, path: Path): string {
    const s = this.string(value, path);
    if (s.length > 63 || !DNS_LABEL.test(s)) this.fail('slo.invalid', path, `must be a DNS label (lower-case letters, digits and "-", at most 63): ${JSON.stringify(s)}`);
    return s;
  }

  stringMap(value: unknown, path: Path, allowLists: boolean): void {
    if (value === undefined) return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail('slo.invalid', path, 'must be a mapping of strings');
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const ok = typeof v === 'string' || (allowLists && Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!ok) this.fail('slo.invalid', [...path, k], allowLists ? 'must be a string or a list of strings' : 'must be a string');
    }
  }

  list(value: unknown, path: Path): unknown[] {
    if (!Array.isArray(value) || value.length === 0) this.fail('slo.invalid', path, 'must be a non-empty list');
    if ((value as unknown[]).length > 1) this.fail('slo.unsupported', path, 'is not supported with more than one entry: write one SLO per objective and window');
    return value as unknown[];
  }
}

function metadata(c: Checker, value: unknown, path: Path): { name: string; displayName?: string } {
  const m = c.mapping(value, path, METADATA);
  const name = c.dnsLabel(c.required(m, 'name', path), [...path, 'name']);
  c.stringMap(m['labels'], [...path, 'labels'], true);
  c.stringMap(m['annotations'], [...path, 'annotations'], false);
  const displayName = c.optionalString(m, 'displayName', path);
  return displayName === undefined ? { name } : { name, displayName };
}

function query(c: Checker, value: unknown, path: Path): SeriesSelector {
  const metric = c.mapping(value, path, METRIC);
  const sourcePath = [...path, 'metricSource'];
  const source = c.mapping(c.required(metric, 'metricSource', path), sourcePath, METRIC_SOURCE);
  if (source['type'] !== undefined && source['type'] !== 'Prometheus') {
    c.fail('slo.unsupported', [...sourcePath, 'type'], `${JSON.stringify(source['type'])} is not supported: the rules are Prometheus rules (type: Prometheus)`);
  }
  const specPath = [...sourcePath, 'spec'];
  const spec = c.mapping(c.required(source, 'spec', sourcePath), specPath, METRIC_SOURCE_SPEC);
  const text = c.string(c.required(spec, 'query', specPath), [...specPath, 'query']);
  try {
    return parseSelector(text);
  } catch (e) {
    return c.fail(
      'slo.invalid',
      [...specPath, 'query'],
      `must be a Prometheus series selector such as http_server_request_errors_total{job="api"}, which the rules wrap as sum(rate(<selector>[window])): ${(e as Error).message}`,
    );
  }
}

function indicator(c: Checker, value: unknown, path: Path): RatioIndicator {
  const ind = c.mapping(value, path, INDICATOR);
  const name = ind['metadata'] === undefined ? undefined : metadata(c, ind['metadata'], [...path, 'metadata']).name;
  const specPath = [...path, 'spec'];
  const spec = c.mapping(c.required(ind, 'spec', path), specPath, INDICATOR_SPEC);
  if (spec['description'] !== undefined) c.string(spec['description'], [...specPath, 'description']);
  const ratioPath = [...specPath, 'ratioMetric'];
  const ratio = c.mapping(c.required(spec, 'ratioMetric', specPath), ratioPath, RATIO);
  if (ratio['counter'] !== true) c.fail('slo.unsupported', [...ratioPath, 'counter'], 'must be true: good, bad and total are counters the rules take rate() of');
  const total = query(c, c.required(ratio, 'total', ratioPath), [...ratioPath, 'total']);
  const hasGood = ratio['good'] !== undefined;
  const hasBad = ratio['bad'] !== undefined;
  if (hasGood === hasBad) c.fail('slo.invalid', ratioPath, 'needs exactly one of good and bad');
  const named = name === undefined ? {} : { name };
  if (hasGood) return { ...named, good: query(c, ratio['good'], [...ratioPath, 'good']), total };
  return { ...named, bad: query(c, ratio['bad'], [...ratioPath, 'bad']), total };
}

/** Validates one parsed YAML document as an SLO. */
export function sloFromDocument(value: unknown, ctx: DocumentContext = {}): Slo {
  const c = new Checker(ctx);
  const doc = c.mapping(value, [], TOP);
  if (doc['apiVersion'] !== 'openslo/v1') {
    if (typeof doc['apiVersion'] === 'string' && doc['apiVersion'].startsWith('openslo/')) {
      c.fail('slo.unsupported', ['apiVersion'], `${doc['apiVersion']} is not supported: use openslo/v1`);
    }
    c.fail('slo.invalid', ['apiVersion'], 'must be openslo/v1');
  }
  if (doc['kind'] !== 'SLO') {
    if (typeof doc['kind'] === 'string') c.fail('slo.unsupported', ['kind'], `${doc['kind']} is not supported: SLO files hold kind: SLO documents (SLIs inline)`);
    c.fail('slo.invalid', ['kind'], 'must be SLO');
  }
  const meta = metadata(c, c.required(doc, 'metadata', []), ['metadata']);
  const spec = c.mapping(c.required(doc, 'spec', []), ['spec'], SPEC);
  const description = c.optionalString(spec, 'description', ['spec']);
  const service = c.dnsLabel(c.required(spec, 'service', ['spec']), ['spec', 'service']);
  const ind = indicator(c, c.required(spec, 'indicator', ['spec']), ['spec', 'indicator']);

  const budgeting = c.required(spec, 'budgetingMethod', ['spec']);
  if (budgeting === 'Timeslices' || budgeting === 'RatioTimeslices') {
    c.fail('slo.unsupported', ['spec', 'budgetingMethod'], `${budgeting} is not supported: use Occurrences (the rules count events)`);
  }
  if (budgeting !== 'Occurrences') c.fail('slo.invalid', ['spec', 'budgetingMethod'], 'must be Occurrences');

  const windowPath = ['spec', 'timeWindow', 0];
  const tw = c.mapping(c.list(c.required(spec, 'timeWindow', ['spec']), ['spec', 'timeWindow'])[0], windowPath, TIME_WINDOW);
  if (tw['isRolling'] !== true) c.fail('slo.unsupported', [...windowPath, 'isRolling'], 'must be true: only rolling windows are supported');
  const durationText = c.string(c.required(tw, 'duration', windowPath), [...windowPath, 'duration']);
  const periodSeconds = parseDuration(durationText);
  if (periodSeconds === undefined) c.fail('slo.invalid', [...windowPath, 'duration'], `must be a duration in minutes, hours, days or weeks such as 30d or 4w: ${JSON.stringify(durationText)}`);
  let windows;
  try {
    windows = burnRateWindows(periodSeconds!);
  } catch (e) {
    return c.fail((e as SloError).code ?? 'slo.invalid', [...windowPath, 'duration'], `(${durationText}): ${(e as Error).message}`);
  }

  const objPath = ['spec', 'objectives', 0];
  const objective = c.mapping(c.list(c.required(spec, 'objectives', ['spec']), ['spec', 'objectives'])[0], objPath, OBJECTIVE);
  const target = c.required(objective, 'target', objPath);
  if (typeof target !== 'number' || !(target > 0 && target < 1)) c.fail('slo.invalid', [...objPath, 'target'], `must be a number between 0 and 1 (exclusive), e.g. 0.99: ${JSON.stringify(target)}`);
  const errorBudget = Number((1 - (target as number)).toPrecision(12));
  const fastest = windows[0]!;
  if (burnThreshold(fastest.burnRate, errorBudget) >= 1) {
    const minTarget = Math.ceil((1 - 1 / fastest.burnRate) * 1e4) / 1e4;
    c.fail(
      'slo.invalid',
      [...objPath, 'target'],
      `${target} leaves an error budget of ${+(errorBudget * 100).toFixed(4)}%: a ${fastest.burnRate}× burn over ${fastest.longWindow} would need more than 100% errors, so the page could never fire; use a target above ${minTarget}`,
    );
  }
  const objectiveName = c.optionalString(objective, 'displayName', objPath);

  const slo: Slo = {
    name: meta.name,
    service,
    indicator: ind,
    target: target as number,
    errorBudget,
    period: formatDuration(periodSeconds!),
    periodSeconds: periodSeconds!,
    budgetingMethod: 'Occurrences',
  };
  if (meta.displayName !== undefined) slo.displayName = meta.displayName;
  if (description !== undefined) slo.description = description;
  if (objectiveName !== undefined) slo.objectiveName = objectiveName;
  if (ctx.source !== undefined) slo.source = ctx.source;
  return slo;
}

function checkUnique(slos: readonly Slo[]): void {
  const seen = new Map<string, Slo>();
  for (const slo of slos) {
    const first = seen.get(slo.name);
    if (first) {
      throw new SloError('slo.duplicate', `metadata.name ${slo.name} is already defined${first.source ? ` in ${first.source}` : ''}`, {
        path: 'metadata.name',
        source: slo.source,
      });
    }
    seen.set(slo.name, slo);
  }
}

/** Sorts by name and refuses duplicate names. */
export function collectSlos(slos: readonly Slo[]): Slo[] {
  checkUnique(slos);
  return [...slos].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
