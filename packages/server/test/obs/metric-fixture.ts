/**
 * One set of metric samples, written two ways: as OpenMetrics text with timestamps (what
 * `promtool tsdb create-blocks-from openmetrics` loads into Prometheus) and as OTLP/JSON export
 * requests (what the service's receiver takes). Each family names its OpenTelemetry instrument
 * (name, unit) and, independently, the Prometheus family the samples have there, so a test
 * also checks the service's OpenTelemetry-to-Prometheus naming.
 */

export interface CounterFamily {
  kind: 'counter';
  otel: { name: string; unit: string };
  /** Prometheus family name; samples are `<prom>_total`. */
  prom: string;
  /** Per series: attributes (labels are the attribute names with "." → "_") and the running total at each time. */
  series: { attrs: Record<string, string>; values: number[] }[];
}

export interface GaugeFamily {
  kind: 'gauge';
  otel: { name: string; unit: string };
  prom: string;
  series: { attrs: Record<string, string>; values: number[] }[];
}

export interface HistogramFamily {
  kind: 'histogram';
  otel: { name: string; unit: string };
  prom: string;
  bounds: number[];
  /** Per series: running count per bucket (bounds.length + 1 buckets, not cumulative across buckets) and running sum, at each time. */
  series: { attrs: Record<string, string>; buckets: number[][]; sums: number[] }[];
}

export type Family = CounterFamily | GaugeFamily | HistogramFamily;

export interface MetricFixture {
  /** `service.name` of the resource; the `job` label. */
  service: string;
  /** Sample times (ms). */
  times: number[];
  families: Family[];
}

const labelName = (key: string): string => key.replace(/[^a-zA-Z0-9_]/g, '_');
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${esc(labels[k]!)}"`)
    .join(',')}}`;
}

function promLabels(service: string, attrs: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { job: service };
  for (const [k, v] of Object.entries(attrs)) out[labelName(k)] = v;
  return { ...out, ...extra };
}

/** OpenMetrics text of the fixture, timestamps in seconds. */
export function toOpenMetrics(f: MetricFixture): string {
  const lines: string[] = [];
  const ts = (ms: number): string => (ms / 1000).toFixed(3);
  for (const fam of f.families) {
    lines.push(`# TYPE ${fam.prom} ${fam.kind}`);
    if (fam.kind === 'counter' || fam.kind === 'gauge') {
      const name = fam.kind === 'counter' ? `${fam.prom}_total` : fam.prom;
      for (const s of fam.series) {
        const labels = labelText(promLabels(f.service, s.attrs));
        s.values.forEach((v, i) => lines.push(`${name}${labels} ${v} ${ts(f.times[i]!)}`));
      }
      continue;
    }
    for (const s of fam.series) {
      f.times.forEach((t, i) => {
        let cumulative = 0;
        const counts = s.buckets[i]!;
        counts.forEach((c, b) => {
          cumulative += c;
          const le = b < fam.bounds.length ? String(fam.bounds[b]) : '+Inf';
          lines.push(`${fam.prom}_bucket${labelText(promLabels(f.service, s.attrs, { le }))} ${cumulative} ${ts(t)}`);
        });
        lines.push(`${fam.prom}_count${labelText(promLabels(f.service, s.attrs))} ${cumulative} ${ts(t)}`);
        lines.push(`${fam.prom}_sum${labelText(promLabels(f.service, s.attrs))} ${s.sums[i]} ${ts(t)}`);
      });
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

const nanos = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();
const kv = (attrs: Record<string, string>) => Object.entries(attrs).map(([key, value]) => ({ key, value: { stringValue: value } }));

/** OTLP/JSON export requests holding the fixture, `perRequest` sample times each (cumulative temporality). */
export function toOtlpRequests(f: MetricFixture, perRequest = 60): object[] {
  const requests: object[] = [];
  const start = nanos(f.times[0]! - 1000);
  for (let from = 0; from < f.times.length; from += perRequest) {
    const idx = f.times.slice(from, from + perRequest).map((_, j) => from + j);
    const metrics = f.families.map((fam) => {
      if (fam.kind === 'counter' || fam.kind === 'gauge') {
        const dataPoints = fam.series.flatMap((s) => idx.map((i) => ({ attributes: kv(s.attrs), startTimeUnixNano: start, timeUnixNano: nanos(f.times[i]!), asDouble: s.values[i]! })));
        return fam.kind === 'counter'
          ? { name: fam.otel.name, unit: fam.otel.unit, sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } }
          : { name: fam.otel.name, unit: fam.otel.unit, gauge: { dataPoints } };
      }
      const dataPoints = fam.series.flatMap((s) =>
        idx.map((i) => {
          const counts = s.buckets[i]!;
          return {
            attributes: kv(s.attrs),
            startTimeUnixNano: start,
            timeUnixNano: nanos(f.times[i]!),
            count: String(counts.reduce((a, b) => a + b, 0)),
            sum: s.sums[i]!,
            bucketCounts: counts.map(String),
            explicitBounds: fam.bounds,
          };
        }),
      );
      return { name: fam.otel.name, unit: fam.otel.unit, histogram: { aggregationTemporality: 2, dataPoints } };
    });
    requests.push({ resourceMetrics: [{ resource: { attributes: kv({ 'service.name': f.service }) }, scopeMetrics: [{ scope: { name: 'fixture' }, metrics }] }] });
  }
  return requests;
}

/** Sends the fixture to an OTLP/HTTP receiver as JSON. */
export async function sendOtlp(f: MetricFixture, otlpHttpUrl: string, token: string): Promise<void> {
  for (const body of toOtlpRequests(f)) {
    const res = await fetch(`${otlpHttpUrl}/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`OTLP metrics answered ${res.status}: ${await res.text()}`);
    const answer = (await res.json()) as { partialSuccess?: { rejectedDataPoints?: string | number } };
    if (Number(answer.partialSuccess?.rejectedDataPoints ?? 0) > 0) throw new Error(`OTLP metrics rejected points: ${JSON.stringify(answer)}`);
  }
}

/** A deterministic pseudo-random sequence (tests must not depend on Math.random). */
export function sequence(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
