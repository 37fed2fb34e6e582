/**
 * One process serves many tenants, but the service's OTLP receiver files each export request
 * under one tenant (X-Stella-Tenant, checked against the token). This exporter splits every
 * batch by tenant — the span's `stella.tenant_id` (set by telemetry-core from the context), or
 * a log record's `tenant_id` — and sends each part with that tenant's header. Records with no
 * tenant of their own follow their trace's tenant; the rest (start-up lines, spans outside any
 * request) go to the platform tenant. It plugs into initTelemetry's `exporters`, so batching,
 * scrubbing, back-off and spill stay telemetry-core's.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

interface Exporter<T> {
  export(items: T[], cb: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

export interface TenantRoutingOptions {
  /** OTLP/HTTP base URL of the receiver. */
  endpoint: string;
  /** Bearer token with `stella:telemetry:write` for every tenant the process serves. */
  token: string;
  /** Tenant for records that belong to none. */
  platformTenant: string;
  /** Request timeout. Default 5000 ms. */
  timeoutMillis?: number;
}

const TRACE_MEMORY = 10_000;

class TenantRouter<T> {
  private readonly exporters = new Map<string, Exporter<T>>();
  private readonly traceTenant = new Map<string, string>();

  constructor(
    private readonly tenantOf: (item: T) => string | undefined,
    private readonly traceOf: (item: T) => string | undefined,
    private readonly create: (tenant: string) => Exporter<T>,
    private readonly platformTenant: string,
  ) {}

  export(items: T[], cb: (result: ExportResult) => void): void {
    for (const item of items) {
      const tenant = this.tenantOf(item);
      const trace = this.traceOf(item);
      if (tenant && trace && !this.traceTenant.has(trace)) {
        if (this.traceTenant.size >= TRACE_MEMORY) this.traceTenant.delete(this.traceTenant.keys().next().value!);
        this.traceTenant.set(trace, tenant);
      }
    }
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const trace = this.traceOf(item);
      const tenant = this.tenantOf(item) ?? (trace ? this.traceTenant.get(trace) : undefined) ?? this.platformTenant;
      let g = groups.get(tenant);
      if (!g) groups.set(tenant, (g = []));
      g.push(item);
    }
    let pending = groups.size;
    let failed: ExportResult | undefined;
    if (pending === 0) return cb({ code: ExportResultCode.SUCCESS });
    for (const [tenant, group] of groups) {
      let exporter = this.exporters.get(tenant);
      if (!exporter) this.exporters.set(tenant, (exporter = this.create(tenant)));
      exporter.export(group, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) failed ??= result;
        if (--pending === 0) cb(failed ?? { code: ExportResultCode.SUCCESS });
      });
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.exporters.values()].map((e) => e.forceFlush?.()));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.exporters.values()].map((e) => e.shutdown()));
  }
}

const headers = (o: TenantRoutingOptions, tenant: string): Record<string, string> => ({ authorization: `Bearer ${o.token}`, 'x-stella-tenant': tenant });

export function tenantRoutingSpanExporter(o: TenantRoutingOptions): SpanExporter {
  const base = o.endpoint.replace(/\/+$/, '');
  return new TenantRouter<ReadableSpan>(
    (s) => {
      const t = s.attributes['stella.tenant_id'];
      return typeof t === 'string' ? t : undefined;
    },
    (s) => s.spanContext().traceId,
    (tenant) => new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: headers(o, tenant), timeoutMillis: o.timeoutMillis ?? 5000 }),
    o.platformTenant,
  );
}

export function tenantRoutingLogExporter(o: TenantRoutingOptions): LogRecordExporter {
  const base = o.endpoint.replace(/\/+$/, '');
  return new TenantRouter<ReadableLogRecord>(
    (r) => {
      const t = r.attributes['tenant_id'];
      return typeof t === 'string' ? t : undefined;
    },
    (r) => r.spanContext?.traceId,
    (tenant) => new OTLPLogExporter({ url: `${base}/v1/logs`, headers: headers(o, tenant), timeoutMillis: o.timeoutMillis ?? 5000 }),
    o.platformTenant,
  );
}
