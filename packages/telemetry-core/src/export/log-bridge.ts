/**
 * Bridges telemetry-core's NDJSON log lines to the OpenTelemetry logs SDK (OTLP export).
 * Lines arrive already scrubbed from the logger's sink hook, synchronously inside the
 * logging call, so the active context still carries the right trace. Error lines get a
 * `log.record.uid` so the spill/re-send path stays de-duplicable end to end.
 */
import { randomBytes } from 'node:crypto';
import { context as otelContext, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { SeverityNumber, type AnyValueMap, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { hrTimeToMilliseconds, isTracingSuppressed } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { currentFields } from '../context/context.js';
import type { SpilledLogRecord } from './error-log-spill.js';

export const LOG_RECORD_UID = 'log.record.uid';
export const SPILL_RESENT_ATTRIBUTE = 'stella.spill.resent';

/** pino level number → OpenTelemetry severity. */
export function severityOf(level: number): { number: SeverityNumber; text: string } {
  if (level >= 60) return { number: SeverityNumber.FATAL, text: 'FATAL' };
  if (level >= 50) return { number: SeverityNumber.ERROR, text: 'ERROR' };
  if (level >= 40) return { number: SeverityNumber.WARN, text: 'WARN' };
  if (level >= 30) return { number: SeverityNumber.INFO, text: 'INFO' };
  if (level >= 20) return { number: SeverityNumber.DEBUG, text: 'DEBUG' };
  return { number: SeverityNumber.TRACE, text: 'TRACE' };
}

const OMIT = new Set(['msg', 'level', 'ts', 'trace_id', 'span_id']);

export interface LogBridgeOptions {
  /** Lowest level exported (pino numbers). Default 30 (info). */
  exportLevel: number;
  /** Whether lines below `exportLevel` are exported anyway (incident breadcrumbs). */
  exportBelowLevel?: (tenantId: string | undefined) => boolean;
}

export class LogBridge {
  constructor(
    private readonly logger: OtelLogger,
    private readonly options: LogBridgeOptions,
  ) {}

  /**
   * Sink entry point: one finished NDJSON line. Lines written while telemetry is being exported
   * (the SDK suppresses tracing around every export) are not exported: an exporter that logs
   * about its own work would otherwise feed itself.
   */
  write(line: string, level: number): void {
    if (isTracingSuppressed(otelContext.active())) return;
    if (level < this.options.exportLevel && !this.options.exportBelowLevel?.(currentFields().tenant_id)) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const attributes: AnyValueMap = {};
    for (const key in parsed) if (!OMIT.has(key)) attributes[key] = parsed[key] as AnyValueMap[string];
    if (level >= 50) attributes[LOG_RECORD_UID] = randomBytes(16).toString('hex');
    const sev = severityOf(level);
    const ts = typeof parsed['ts'] === 'string' ? Date.parse(parsed['ts']) : Date.now();
    this.logger.emit({
      timestamp: Number.isNaN(ts) ? Date.now() : ts,
      severityNumber: sev.number,
      severityText: sev.text,
      body: typeof parsed['msg'] === 'string' ? parsed['msg'] : undefined,
      attributes,
    });
  }

  /** Re-emits spilled records; they pass through the normal queue and exporter again. */
  resend(records: readonly SpilledLogRecord[]): void {
    for (const r of records) {
      let ctx: Context = ROOT_CONTEXT;
      if (r.trace_id && r.span_id) {
        ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: r.trace_id, spanId: r.span_id, traceFlags: r.trace_flags ?? 0 });
      }
      this.logger.emit({
        timestamp: r.ts,
        severityNumber: r.severity_number,
        severityText: r.severity_text,
        body: r.body as string | undefined,
        attributes: { ...(r.attributes as AnyValueMap), [SPILL_RESENT_ATTRIBUTE]: true },
        context: ctx,
      });
    }
  }
}

/** The on-disk form of a log record (for the error spill). */
export function toSpilled(record: ReadableLogRecord): SpilledLogRecord {
  const out: SpilledLogRecord = {
    ts: Math.round(hrTimeToMilliseconds(record.hrTime)),
    severity_number: record.severityNumber ?? SeverityNumber.UNSPECIFIED,
    attributes: { ...record.attributes },
  };
  delete out.attributes[SPILL_RESENT_ATTRIBUTE];
  if (record.severityText) out.severity_text = record.severityText;
  if (record.body !== undefined) out.body = record.body;
  if (record.spanContext) {
    out.trace_id = record.spanContext.traceId;
    out.span_id = record.spanContext.spanId;
    out.trace_flags = record.spanContext.traceFlags;
  }
  return out;
}
