/**
 * OpenMetrics 1.0 (and Prometheus text 0.0.4) exposition of the SDK's collected metrics,
 * with exemplars on histogram buckets. The stock Prometheus exporter writes the 0.0.4 text
 * format without exemplars, so the exposition is done here from `ResourceMetrics`.
 * Naming follows the OpenTelemetry → Prometheus compatibility rules: dots become
 * underscores, the unit is appended (`_seconds`, `_bytes`), monotonic sums get `_total`.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { attributesKey } from './cardinality-guard.js';
import type { ExemplarStore } from './exemplar-store.js';

export type ExpositionFormat = 'openmetrics' | 'prometheus';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
};

/** Picks the format a scraper asked for; Prometheus asks for OpenMetrics first when exemplars are enabled. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
}

const UNITS: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': 'ratio' };

function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function sanitizeLabel(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelString(attrs: Attributes, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const key of Object.keys(attrs).sort()) {
    const v = attrs[key];
    if (v === undefined) continue;
    parts.push(`${sanitizeLabel(key)}="${escapeValue(Array.isArray(v) ? v.join(',') : String(v))}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  unit?: string;
  help: string;
  lines: string[];
}

function familyOf(metric: MetricData): { name: string; type: Family['type']; unit?: string } | undefined {
  const unit = UNITS[metric.descriptor.unit];
  let name = sanitizeName(metric.descriptor.name);
  if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic) name = name.replace(/_total$/, '');
  if (unit && !name.endsWith(`_${unit}`)) name = `${name}_${unit}`;
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return { name, type: metric.isMonotonic ? 'counter' : 'gauge', unit };
    case DataPointType.GAUGE:
      return { name, type: 'gauge', unit };
    case DataPointType.HISTOGRAM:
      return { name, type: 'histogram', unit };
    default:
      return undefined; // Exponential histograms are not configured by telemetry-core.
  }
}

export interface SerializeOptions {
  format: ExpositionFormat;
  exemplars?: ExemplarStore;
}

export function serializeMetrics(resourceMetrics: ResourceMetrics, options: SerializeOptions): string {
  const om = options.format === 'openmetrics';
  const families = new Map<string, Family>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const f = familyOf(metric);
      if (!f) continue;
      let family = families.get(f.name);
      if (!family) {
        family = { ...f, help: metric.descriptor.description, lines: [] };
        families.set(f.name, family);
      } else if (family.type !== f.type) {
        continue; // Same name, different type: the first registration wins.
      }
      writePoints(family, metric, om, options.exemplars);
    }
  }

  const out: string[] = [];
  const target = resourceMetrics.resource.attributes;
  if (Object.keys(target).length > 0) {
    out.push(om ? '# TYPE target info' : '# TYPE target_info gauge');
    out.push(om ? '# HELP target Target metadata' : '# HELP target_info Target metadata');
    out.push(`target_info${labelString(target as Attributes)} 1`);
  }
  for (const family of [...families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (family.lines.length === 0) continue;
    const typeName = !om && family.type === 'counter' ? `${family.name}_total` : family.name;
    out.push(`# TYPE ${typeName} ${family.type}`);
    if (om && family.unit) out.push(`# UNIT ${family.name} ${family.unit}`);
    if (family.help) out.push(`# HELP ${typeName} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    out.push(...family.lines);
  }
  if (om) out.push('# EOF');
  return out.join('\n') + '\n';
}

function writePoints(family: Family, metric: MetricData, om: boolean, exemplars: ExemplarStore | undefined): void {
  const name = family.name;
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    for (const point of metric.dataPoints) {
      const attrs = point.attributes as Attributes;
      const stored = om ? exemplars?.get(metric.descriptor.name, attributesKey(attrs)) : undefined;
      const { boundaries, counts } = point.value.buckets;
      let cumulative = 0;
      for (let i = 0; i <= boundaries.length; i++) {
        cumulative += counts[i] ?? 0;
        const le = i < boundaries.length ? formatNumber(boundaries[i] as number) : '+Inf';
        let line = `${name}_bucket${labelString(attrs, ['le', le])} ${cumulative}`;
        const ex = stored?.[i];
        if (ex) line += ` # {trace_id="${ex.traceId}",span_id="${ex.spanId}"} ${formatNumber(ex.value)} ${(ex.timeMs / 1000).toFixed(3)}`;
        family.lines.push(line);
      }
      const labels = labelString(attrs);
      family.lines.push(`${name}_count${labels} ${point.value.count}`);
      family.lines.push(`${name}_sum${labels} ${formatNumber(point.value.sum ?? 0)}`);
    }
    return;
  }
  if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
    const suffix = family.type === 'counter' ? '_total' : '';
    for (const point of metric.dataPoints) {
      family.lines.push(`${name}${suffix}${labelString(point.attributes as Attributes)} ${formatNumber(point.value)}`);
    }
  }
}
