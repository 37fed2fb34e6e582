/**
 * Cardinality guard (CORE-6): a metric may hold at most `maxSeriesPerMetric` label sets, and
 * one tenant at most `maxSeriesPerTenant` of them, so a tenant sending ten thousand route
 * variants cannot blow up the metrics bill for everyone. Label sets beyond a cap are folded
 * into a single `otel.metric.overflow="true"` series and counted per metric and reason.
 */
import type { Attributes } from '@opentelemetry/api';

export const OVERFLOW_ATTRIBUTES: Readonly<Attributes> = Object.freeze({ 'otel.metric.overflow': 'true' });
export const OVERFLOW_KEY = 'otel.metric.overflow=true';

export interface CardinalityLimits {
  /** Label sets per metric. Default 2000 (the SDK's own default limit). */
  maxSeriesPerMetric?: number;
  /** Label sets per tenant within one metric. Default 200. */
  maxSeriesPerTenant?: number;
  /** Attribute that names the tenant. Default `stella.tenant_id`. */
  tenantAttribute?: string;
}

export type OverflowReason = 'metric_limit' | 'tenant_limit';

/** Stable key of an attribute set (sorted, so call-site key order does not split series). */
export function attributesKey(attrs: Attributes): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const k of keys) {
    const v = attrs[k];
    if (v === undefined) continue;
    out += `${k}=${Array.isArray(v) ? v.join(',') : String(v)}\u0001`;
  }
  return out;
}

export class CardinalityGuard {
  private readonly series = new Map<string, Set<string>>();
  private readonly tenantSeries = new Map<string, Map<string, number>>();
  private readonly overflows = new Map<string, number>();
  private readonly maxPerMetric: number;
  private readonly maxPerTenant: number;
  private readonly tenantAttribute: string;

  constructor(limits: CardinalityLimits = {}) {
    this.maxPerMetric = limits.maxSeriesPerMetric ?? 2000;
    this.maxPerTenant = limits.maxSeriesPerTenant ?? 200;
    this.tenantAttribute = limits.tenantAttribute ?? 'stella.tenant_id';
  }

  /** True if the label set may be recorded as is; false means: record it as the overflow series. */
  admit(metric: string, key: string, attrs: Attributes): boolean {
    let known = this.series.get(metric);
    if (known === undefined) {
      known = new Set();
      this.series.set(metric, known);
    }
    if (known.has(key)) return true;
    // The overflow series itself takes one slot of the metric's budget.
    if (known.size >= this.maxPerMetric - 1) return this.overflow(metric, 'metric_limit');
    const tenant = attrs[this.tenantAttribute];
    if (typeof tenant === 'string') {
      let perTenant = this.tenantSeries.get(metric);
      if (perTenant === undefined) {
        perTenant = new Map();
        this.tenantSeries.set(metric, perTenant);
      }
      const n = perTenant.get(tenant) ?? 0;
      if (n >= this.maxPerTenant) return this.overflow(metric, 'tenant_limit');
      perTenant.set(tenant, n + 1);
    }
    known.add(key);
    return true;
  }

  /** Overflowed recordings, keyed `metric|reason`. */
  overflowCounts(): ReadonlyMap<string, number> {
    return this.overflows;
  }

  private overflow(metric: string, reason: OverflowReason): false {
    const k = `${metric}|${reason}`;
    this.overflows.set(k, (this.overflows.get(k) ?? 0) + 1);
    return false;
  }
}
