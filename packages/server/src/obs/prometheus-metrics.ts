/**
 * The metrics query over Prometheus' HTTP API (OBS-2 at scale, `STELLA_PROMETHEUS_URL`). The
 * service never passes a caller's PromQL through: it writes each query itself from a metric
 * name and parsed label matchers, adding a matcher on the tenant label to every selector, so a
 * tenant reads only series labelled with its id. SLO error ratios are asked for with the very
 * expression the generated recording rules hold (`sliErrorRatioExpr`).
 *
 * Which type a name has: Prometheus' metadata when it knows one (scraped targets), else the
 * naming conventions — `<name>_bucket` series make a histogram, `_total`, `_count`, `_sum` and
 * `_bucket` name counters, anything else is a gauge (backfilled or remote-written data has no
 * metadata).
 */
import { sliErrorRatioExpr, type LabelMatcher, type SeriesSelector, type Slo } from '@stellaops/collector-config';
import { isValidTenantId } from '@stellaops/telemetry-core/tenant-id';
import { ServiceError } from '../errors.js';
import { checkSeriesCount, cleanLabels, quantileOnNonHistogram, sortSeries, typeFromName, type ErrorRatios, type MetricsQuery, type MetricsRangeAnswer, type MetricsRangeQuery, type MetricType } from './metrics-query.js';

export interface PrometheusMetricsOptions {
  /** Base URL, e.g. `http://prometheus:9090` (a path prefix is kept). */
  url: string;
  /** The label that carries the tenant id on every series. */
  tenantLabel: string;
  /** Per-request timeout in ms (also sent as the query timeout). */
  timeoutMs: number;
  /** Injectable for tests. Default: global fetch. */
  fetch?: typeof fetch;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

type Matrix = { metric: Record<string, string>; values: [number, string][] }[];
type Vector = { metric: Record<string, string>; value: [number, string] }[];

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** PromQL text of a selector. */
export function selectorText(name: string | undefined, matchers: readonly LabelMatcher[]): string {
  return `${name ?? ''}{${matchers.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(',')}}`;
}

/** Seconds as PromQL writes a range: whole seconds, or milliseconds when needed. */
function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class PrometheusMetricsQuery implements MetricsQuery {
  readonly source = 'prometheus' as const;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: PrometheusMetricsOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  async tenants(): Promise<string[]> {
    const values = await this.api<string[]>(`label/${encodeURIComponent(this.options.tenantLabel)}/values`, {});
    return values.filter((v) => isValidTenantId(v));
  }

  async range(tenant: string, q: MetricsRangeQuery): Promise<MetricsRangeAnswer> {
    const resolved = await this.resolve(tenant, q.name, q.fromMs, q.toMs);
    if (!resolved) return { type: null, meaning: q.quantile !== undefined ? 'quantile' : 'value', series: [] };
    const { type, sample } = resolved;
    if (q.quantile !== undefined && type !== 'histogram') throw quantileOnNonHistogram(q.name, type);
    const range = `[${promDuration(q.stepMs)}]`;
    const sel = (name: string): string => selectorText(name, this.scoped(tenant, q.matchers));
    let expr: string;
    let meaning: MetricsRangeAnswer['meaning'];
    if (type === 'gauge') {
      expr = sel(sample);
      meaning = 'value';
    } else if (type === 'counter') {
      expr = `rate(${sel(sample)}${range})`;
      meaning = 'rate_per_second';
    } else if (q.quantile !== undefined) {
      expr = `histogram_quantile(${q.quantile}, rate(${sel(`${q.name}_bucket`)}${range}))`;
      meaning = 'quantile';
    } else {
      expr = `rate(${sel(`${q.name}_count`)}${range})`;
      meaning = 'observations_per_second';
    }
    const matrix = await this.api<{ resultType: string; result: Matrix }>('query_range', {
      query: expr,
      start: String(q.fromMs / 1000),
      end: String(q.toMs / 1000),
      step: String(q.stepMs / 1000),
    });
    checkSeriesCount(matrix.result.length, q.maxSeries);
    const series = matrix.result.map((s) => ({
      labels: cleanLabels(s.metric, ['__name__']),
      points: s.values.map(([t, v]) => [t, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)),
    }));
    return { type, meaning, series: sortSeries(series) };
  }

  async sloErrorRatios(tenant: string, slo: Slo, windows: readonly string[], atMs: number): Promise<ErrorRatios> {
    const scope = (s: SeriesSelector): SeriesSelector => {
      const matchers = this.scoped(tenant, s.matchers);
      return { ...s, matchers, text: selectorText(s.metricName, matchers) };
    };
    const indicator = slo.indicator.good
      ? { ...slo.indicator, good: scope(slo.indicator.good), total: scope(slo.indicator.total) }
      : { ...slo.indicator, bad: scope(slo.indicator.bad), total: scope(slo.indicator.total) };
    const scoped: Slo = { ...slo, indicator };
    const out: ErrorRatios = new Map();
    await Promise.all(
      windows.map(async (w) => {
        const vector = await this.api<{ resultType: string; result: Vector }>('query', { query: sliErrorRatioExpr(scoped, w), time: String(atMs / 1000) });
        const value = vector.result[0] ? Number(vector.result[0].value[1]) : NaN;
        out.set(w, Number.isFinite(value) ? value : null);
      }),
    );
    return new Map(windows.map((w) => [w, out.get(w) ?? null]));
  }

  /** The caller's matchers plus the tenant's. */
  private scoped(tenant: string, matchers: readonly LabelMatcher[]): LabelMatcher[] {
    return [...matchers, { name: this.options.tenantLabel, op: '=', value: tenant }];
  }

  /** Which series a name stands for in the window, and its type; undefined when none exists. */
  private async resolve(tenant: string, name: string, fromMs: number, toMs: number): Promise<{ type: MetricType; sample: string } | undefined> {
    const present = new Set(
      await this.api<string[]>('label/__name__/values', {
        'match[]': selectorText(undefined, this.scoped(tenant, [{ name: '__name__', op: '=~', value: `${name}|${name}_bucket|${name}_total` }])),
        start: String(Math.floor(fromMs / 1000) - 300),
        end: String(Math.ceil(toMs / 1000)),
      }),
    );
    if (present.has(name)) return { type: (await this.metadataType(name)) ?? typeFromName(name), sample: name };
    if (present.has(`${name}_bucket`)) return { type: 'histogram', sample: name };
    if (present.has(`${name}_total`)) return { type: 'counter', sample: `${name}_total` };
    return undefined;
  }

  private async metadataType(name: string): Promise<'counter' | 'gauge' | undefined> {
    const meta = await this.api<Record<string, { type: string }[]>>('metadata', { metric: name });
    const types = new Set((meta[name] ?? []).map((m) => m.type));
    if (types.size !== 1) return undefined;
    const [type] = types;
    return type === 'counter' || type === 'gauge' ? type : undefined;
  }

  private async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const url = `${this.base}/api/v1/${path}`;
    // Queries go as POST forms (long selectors stay clear of URL limits); the label and metadata endpoints take GET only.
    const post = path === 'query' || path === 'query_range';
    const form = new URLSearchParams(post ? { ...params, timeout: `${Math.max(1, Math.floor(this.options.timeoutMs / 1000))}s` } : params);
    let response: Response;
    try {
      response = await this.fetchFn(post ? url : `${url}?${form}`, {
        method: post ? 'POST' : 'GET',
        ...(post ? { body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (cause) {
      const reason = (cause as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (cause as Error).message;
      throw new ServiceError('obs.metrics_unavailable', `Prometheus did not answer (${reason}); retry shortly`, { cause });
    }
    let answer: ApiAnswer<T>;
    try {
      answer = (await response.json()) as ApiAnswer<T>;
    } catch (cause) {
      throw new ServiceError('obs.metrics_unavailable', `Prometheus answered HTTP ${response.status} without its JSON body; retry shortly`, { cause });
    }
    if (answer.status === 'success' && answer.data !== undefined) return answer.data;
    const text = `${answer.errorType ?? 'error'}: ${(answer.error ?? '').slice(0, 300)}`;
    if (response.status >= 500 || answer.errorType === 'timeout' || answer.errorType === 'canceled' || answer.errorType === 'unavailable') {
      throw new ServiceError('obs.metrics_unavailable', `Prometheus could not answer now (${text}); retry shortly`);
    }
    throw new ServiceError('obs.metrics_backend_failed', `Prometheus refused the query (${text})`);
  }
}
