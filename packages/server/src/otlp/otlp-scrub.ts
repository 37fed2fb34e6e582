/**
 * Incoming telemetry passes the same scrubber as everything else (CORE-2) before it is stored:
 * attribute values by key (allowlisted keys pass, sensitive keys become markers, other strings
 * go through the text rules), log bodies, span names, event names and status messages. Walks
 * the decoded message in place and reports whether anything changed, so an already clean
 * protobuf request is stored byte-for-byte as received.
 */
import { compileScrubPolicy, scrubKeyValue, scrubText, type CompiledScrubPolicy } from '@stellaops/telemetry-core';
import type { AnyValue, KeyValue, LogsRequest, MetricsRequest, Signal, TraceRequest } from '../segments/signal-records.js';

export class OtlpScrubber {
  private readonly policy: CompiledScrubPolicy;

  constructor(policy?: CompiledScrubPolicy) {
    this.policy = policy ?? compileScrubPolicy();
  }

  /** Scrubs `request` in place; true when any value changed. */
  scrub(signal: Signal, request: TraceRequest | LogsRequest | MetricsRequest): boolean {
    if (signal === 'traces') return this.traces(request as TraceRequest);
    if (signal === 'logs') return this.logs(request as LogsRequest);
    return this.metrics(request as MetricsRequest);
  }

  private traces(request: TraceRequest): boolean {
    let changed = false;
    for (const rs of request.resourceSpans) {
      if (rs.resource && this.attributes(rs.resource.attributes)) changed = true;
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          if (this.attributes(span.attributes)) changed = true;
          const name = this.text(span.name);
          if (name !== span.name) {
            span.name = name;
            changed = true;
          }
          for (const ev of span.events) {
            if (this.attributes(ev.attributes)) changed = true;
            const evName = this.text(ev.name);
            if (evName !== ev.name) {
              ev.name = evName;
              changed = true;
            }
          }
          for (const link of span.links) if (this.attributes(link.attributes)) changed = true;
          if (span.status?.message) {
            const msg = this.text(span.status.message);
            if (msg !== span.status.message) {
              span.status.message = msg;
              changed = true;
            }
          }
        }
      }
    }
    return changed;
  }

  private logs(request: LogsRequest): boolean {
    let changed = false;
    for (const rl of request.resourceLogs) {
      if (rl.resource && this.attributes(rl.resource.attributes)) changed = true;
      for (const sl of rl.scopeLogs) {
        for (const record of sl.logRecords) {
          if (this.attributes(record.attributes)) changed = true;
          if (record.body && this.anyValue('body', record.body)) changed = true;
        }
      }
    }
    return changed;
  }

  private metrics(request: MetricsRequest): boolean {
    let changed = false;
    for (const rm of request.resourceMetrics) {
      if (rm.resource && this.attributes(rm.resource.attributes)) changed = true;
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
          for (const point of data?.dataPoints ?? []) if (this.attributes(point.attributes)) changed = true;
        }
      }
    }
    return changed;
  }

  private text(value: string): string {
    return value ? scrubText(value, this.policy) : value;
  }

  private attributes(list: KeyValue[] | undefined): boolean {
    if (!list) return false;
    let changed = false;
    for (const kv of list) if (kv.value && this.anyValue(kv.key, kv.value)) changed = true;
    return changed;
  }

  /** Scrubs one AnyValue under `key`; strings by key rules, arrays and maps recursively. */
  private anyValue(key: string, value: AnyValue): boolean {
    if (typeof value.stringValue === 'string' && value.stringValue !== '') {
      const scrubbed = scrubKeyValue(key, value.stringValue, this.policy);
      if (scrubbed !== value.stringValue) {
        value.stringValue = typeof scrubbed === 'string' ? scrubbed : String(scrubbed);
        return true;
      }
      return false;
    }
    if (value.arrayValue) {
      let changed = false;
      for (const v of value.arrayValue.values) if (this.anyValue(key, v)) changed = true;
      return changed;
    }
    if (value.kvlistValue) return this.attributes(value.kvlistValue.values);
    if (value.bytesValue && value.bytesValue.length > 0) {
      // Opaque bytes under a sensitive key are dropped to a marker like any other value.
      const marked = scrubKeyValue(key, '[binary]', this.policy);
      if (marked !== '[binary]') {
        value.bytesValue = null;
        value.stringValue = String(marked);
        return true;
      }
    }
    return false;
  }
}
