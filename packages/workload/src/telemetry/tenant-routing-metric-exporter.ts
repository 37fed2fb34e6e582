/**
 * Metrics of a process that serves several tenants, pushed to the service's OTLP receiver one
 * request per tenant (the receiver files each request under the tenant of its
 * X-Stella-Tenant). Each collection is split by data point: a point whose attributes carry
 * `stella.tenant_id` (telemetry-core puts it on request and journey metrics) goes to that
 * tenant, every other point (runtime, export pipeline, queues, points folded into the
 * overflow series) to the platform tenant. Batches are encoded by telemetry-core's
 * `otlpRequestExporters`, exactly as an OTLP/HTTP exporter would send them.
 *
 * Temporality is OTLP's "low memory" preference: synchronous counters and histograms are
 * delta, everything else cumulative. A delta series' increase over a window is the sum of its
 * points, so the receiver's store counts every observation, the first ones included — a
 * cumulative series shows no increase until its second point, so journeys of a new tenant
 * (or a burst between two pushes) would be invisible to a rate, and to the SLOs read from it.
 * Because a lost delta is lost for good, a request the receiver refuses for now (429, 502,
 * 503, 504, or no answer) is sent again with back-off, honouring Retry-After, for up to
 * `retryForMs`; other refusals fail the export (telemetry-core counts it).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { otlpRequestExporters, type OtlpRequestExporters } from '@stellaops/telemetry-core';

type MetricExporter = OtlpRequestExporters['metrics'];
type ResourceMetrics = Parameters<MetricExporter['export']>[0];
type MetricData = ResourceMetrics['scopeMetrics'][number]['metrics'][number];
type SelectTemporality = NonNullable<MetricExporter['selectAggregationTemporality']>;
type InstrumentType = Parameters<SelectTemporality>[0];
type AggregationTemporality = ReturnType<SelectTemporality>;

/** `AggregationTemporality.DELTA` and `.CUMULATIVE` of @opentelemetry/sdk-metrics. */
const DELTA = 0 as AggregationTemporality;
const CUMULATIVE = 1 as AggregationTemporality;
/** Instruments that are delta under the low-memory preference. */
const DELTA_INSTRUMENTS: ReadonlySet<string> = new Set(['COUNTER', 'HISTOGRAM']);
const RETRYABLE: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface TenantRoutingMetricOptions {
  /** OTLP/HTTP base URL of the receiver. */
  endpoint: string;
  /** Bearer token with `stella:telemetry:write` for every tenant the process serves. */
  token: string;
  /** Tenant for points that belong to none. */
  platformTenant: string;
  /** Data point attribute naming the tenant. Default `stella.tenant_id`. */
  tenantAttribute?: string;
  /** Timeout of one request. Default 5000 ms. */
  timeoutMillis?: number;
  /** How long a refused-for-now request is retried. Default 30000 ms. */
  retryForMs?: number;
}

/** Splits one collection into one per tenant, keeping resource, scopes and descriptors. */
export function splitMetricsByTenant(metrics: ResourceMetrics, tenantAttribute: string, platformTenant: string): Map<string, ResourceMetrics> {
  const out = new Map<string, ResourceMetrics>();
  for (const scope of metrics.scopeMetrics) {
    const perTenant = new Map<string, MetricData[]>();
    for (const metric of scope.metrics) {
      const points = new Map<string, unknown[]>();
      for (const point of metric.dataPoints) {
        const value = point.attributes[tenantAttribute];
        const tenant = typeof value === 'string' && value !== '' ? value : platformTenant;
        let list = points.get(tenant);
        if (!list) points.set(tenant, (list = []));
        list.push(point);
      }
      for (const [tenant, dataPoints] of points) {
        let list = perTenant.get(tenant);
        if (!list) perTenant.set(tenant, (list = []));
        list.push({ ...metric, dataPoints } as MetricData);
      }
    }
    for (const [tenant, list] of perTenant) {
      let part = out.get(tenant);
      if (!part) out.set(tenant, (part = { resource: metrics.resource, scopeMetrics: [] }));
      part.scopeMetrics.push({ scope: scope.scope, metrics: list });
    }
  }
  return out;
}

function retryAfterMs(header: string | null, attempt: number): number {
  const seconds = header === null ? NaN : Number(header);
  const backoff = Math.min(4000, 250 * 2 ** attempt);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 10_000) : backoff;
}

export function tenantRoutingMetricExporter(o: TenantRoutingMetricOptions): MetricExporter {
  const url = `${o.endpoint.replace(/\/+$/, '')}/v1/metrics`;
  const tenantAttribute = o.tenantAttribute ?? 'stella.tenant_id';
  const timeout = o.timeoutMillis ?? 5000;
  const retryFor = o.retryForMs ?? 30_000;
  const pending = new Set<Promise<unknown>>();
  const encoders = new Map<string, MetricExporter>();

  const send = async (tenant: string, body: Uint8Array): Promise<void> => {
    const giveUpAt = Date.now() + retryFor;
    for (let attempt = 0; ; attempt++) {
      let wait: number;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.token}`, 'x-stella-tenant': tenant, 'content-type': 'application/x-protobuf' },
          body,
          signal: AbortSignal.timeout(timeout),
        });
        // The body is an ExportMetricsServiceResponse; a partial success was the receiver's decision.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        if (!RETRYABLE.has(res.status)) throw new Error(`the receiver refused the ${tenant} metrics: HTTP ${res.status} ${res.headers.get('x-stella-error-code') ?? ''}`.trim());
        wait = retryAfterMs(res.headers.get('retry-after'), attempt);
        if (Date.now() + wait > giveUpAt) throw new Error(`the receiver kept refusing the ${tenant} metrics: HTTP ${res.status}`);
      } catch (error) {
        const transient = error instanceof TypeError || (error as Error).name === 'TimeoutError';
        if (!transient) throw error;
        wait = retryAfterMs(null, attempt);
        if (Date.now() + wait > giveUpAt) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  const encoderFor = (tenant: string): MetricExporter => {
    let e = encoders.get(tenant);
    if (!e) encoders.set(tenant, (e = otlpRequestExporters((_signal, body) => send(tenant, body)).metrics));
    return e;
  };

  return {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
      const parts = splitMetricsByTenant(metrics, tenantAttribute, o.platformTenant);
      if (parts.size === 0) return done({ code: ExportResultCode.SUCCESS });
      let left = parts.size;
      let failed: ExportResult | undefined;
      for (const [tenant, part] of parts) {
        const sent = new Promise<void>((resolve) => {
          try {
            encoderFor(tenant).export(part, (result) => {
              if (result.code !== ExportResultCode.SUCCESS) failed ??= result;
              resolve();
            });
          } catch (error) {
            // An encoder that throws fails this tenant's part like a refused export; it never escapes.
            failed ??= { code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) };
            resolve();
          }
        });
        pending.add(sent);
        void sent
          .then(() => {
            pending.delete(sent);
            if (--left === 0) done(failed ?? { code: ExportResultCode.SUCCESS });
          })
          .catch(() => undefined); // `done` is the SDK's callback; a throw from it must not become an unhandled rejection
      }
    },
    selectAggregationTemporality: (type: InstrumentType): AggregationTemporality => (DELTA_INSTRUMENTS.has(type as string) ? DELTA : CUMULATIVE),
    async forceFlush(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async shutdown(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
