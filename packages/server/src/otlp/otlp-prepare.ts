/**
 * Everything done to one OTLP export request before it is stored, as one pure function (no
 * I/O, no shared state), so it can run on the event loop or in a worker thread:
 * decode (protobuf or JSON) → check the tenant → check every item against what will store
 * it → make every string storable → scrub → encode → derive the index rows.
 *
 * Items are judged one by one: an item out of range (an enum outside its values, a malformed
 * id, attributes nested too deeply or too many) is removed and counted as rejected (OTLP
 * partial success, with the reasons); the rest of the request is kept. Strings that no text
 * column can hold (NUL, lone surrogates) are normalised to U+FFFD in place, so the stored
 * record and its index agree.
 */
import type { RecordRows } from '../segments/index-rows.js';
import { logRows, metricsRows, traceRows } from '../segments/index-rows.js';
import { storableText } from '../store/storable-text.js';
import { OtlpError } from './otlp-error.js';
import { requestFromJson } from './otlp-proto.js';
import { decodeRequest, encodeRequest, int64ToNumber, type AnyValue, type Int64, type KeyValue, type LogRecord, type LogsRequest, type MetricsRequest, type RequestOf, type Signal, type Span, type TraceRequest } from '../segments/signal-records.js';
import type { OtlpScrubber } from './otlp-scrub.js';

export type OtlpFormat = 'protobuf' | 'json';

export interface PrepareLimits {
  /** Most attributes on one item (span, log record, data point), counting events' and links'. Default 1024. */
  maxAttributesPerItem: number;
  /** Deepest nesting of an attribute value (arrays and maps). Default 32. */
  maxValueDepth: number;
}

export const DEFAULT_PREPARE_LIMITS: PrepareLimits = { maxAttributesPerItem: 1024, maxValueDepth: 32 };

export interface PreparedRequest {
  /** Items kept. */
  accepted: number;
  /** Items removed as out of range. */
  rejected: number;
  /** Why items were removed (partial success message), when any were. */
  message?: string;
  /** What to append: the body as received when nothing changed, else the re-encoded request. */
  payload: Uint8Array;
  /** Index rows of the record (traces, logs and metric samples). */
  rows: RecordRows;
}

/** Resource attributes that name a tenant; a value other than the token's tenant is refused. */
const TENANT_KEYS = new Set(['tenant.id', 'stella.tenant_id']);

/** Nanoseconds since the epoch must name a time a timestamp column holds (up to 9999-12-31). */
const MAX_UNIX_NANO = 253_402_300_799_999 * 1_000_000;

export function prepareRequest(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat, scrubber: OtlpScrubber, receivedAtMs: number, limits: PrepareLimits = DEFAULT_PREPARE_LIMITS): PreparedRequest {
  const request = decode(signal, body, format);
  checkTenant(tenant, signal, request);
  const judge = new Judge(limits);
  if (signal === 'traces') judge.traces(request as TraceRequest);
  else if (signal === 'logs') judge.logs(request as LogsRequest);
  else judge.metrics(request as MetricsRequest);
  const scrubbed = judge.accepted > 0 && scrubber.scrub(signal, request);
  // A clean protobuf request is stored exactly as received; anything altered is re-encoded.
  const payload = format === 'protobuf' && !scrubbed && !judge.changed ? body : encodeRequest(signal, request);
  const rows =
    judge.accepted === 0
      ? { traceIds: [], spans: [], logs: [] }
      : signal === 'traces'
        ? traceRows(request as TraceRequest)
        : signal === 'logs'
          ? logRows(request as LogsRequest, receivedAtMs)
          : metricsRows(request as MetricsRequest, receivedAtMs);
  const message = judge.message(signal);
  return message ? { accepted: judge.accepted, rejected: judge.rejected, message, payload, rows } : { accepted: judge.accepted, rejected: judge.rejected, payload, rows };
}

function decode<S extends Signal>(signal: S, body: Uint8Array, format: OtlpFormat): RequestOf<S> {
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (cause) {
      throw new OtlpError('otlp.malformed_json', `the body is not JSON: ${(cause as Error).message}`, undefined, { cause });
    }
    try {
      return requestFromJson(signal, parsed);
    } catch (cause) {
      throw new OtlpError('otlp.malformed_json', (cause as Error).message, undefined, { cause });
    }
  }
  try {
    return decodeRequest(signal, body);
  } catch (cause) {
    throw new OtlpError('otlp.malformed_protobuf', `the body is not a valid ${signal} export request: ${(cause as Error).message}`, undefined, { cause });
  }
}

function resourcesOf(signal: Signal, request: TraceRequest | LogsRequest | MetricsRequest): { resource?: { attributes: KeyValue[] } | null }[] {
  if (signal === 'traces') return (request as TraceRequest).resourceSpans;
  if (signal === 'logs') return (request as LogsRequest).resourceLogs;
  return (request as MetricsRequest).resourceMetrics;
}

function checkTenant(tenant: string, signal: Signal, request: TraceRequest | LogsRequest | MetricsRequest): void {
  for (const r of resourcesOf(signal, request)) {
    for (const kv of r.resource?.attributes ?? []) {
      if (TENANT_KEYS.has(kv.key) && typeof kv.value?.stringValue === 'string' && kv.value.stringValue !== tenant) {
        throw new OtlpError('otlp.tenant_mismatch', `resource attribute ${kv.key}="${kv.value.stringValue.slice(0, 64)}" disagrees with the token's tenant "${tenant}"`);
      }
    }
  }
}

function isZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

function validTime(value: Int64 | null | undefined): boolean {
  const n = int64ToNumber(value);
  return Number.isFinite(n) && n >= 0 && n <= MAX_UNIX_NANO;
}

function intIn(value: unknown, min: number, max: number): boolean {
  const n = value ?? 0;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

const TOO_DEEP = -1;

/** Judges and normalises items; counts what it kept and removed and why. */
class Judge {
  accepted = 0;
  rejected = 0;
  /** True when a string was normalised (the stored record then differs from the body). */
  changed = false;
  private readonly reasons = new Map<string, number>();

  constructor(private readonly limits: PrepareLimits) {}

  message(signal: Signal): string | undefined {
    if (this.rejected === 0) return undefined;
    const noun = signal === 'traces' ? 'span(s)' : signal === 'logs' ? 'log record(s)' : 'data point(s)';
    const why = [...this.reasons].map(([reason, n]) => `${n} × ${reason}`).join('; ');
    return `${this.rejected} ${noun} rejected: ${why}`;
  }

  private reject(reason: string, count = 1): void {
    this.rejected += count;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + count);
  }

  /** A storable form of a string field; an absent field (null, undefined) stays absent. */
  private text<T>(value: T): T {
    if (typeof value !== 'string') return value;
    const fixed = storableText(value);
    if (fixed !== value) this.changed = true;
    return fixed as T;
  }

  /** Normalises a list of attributes; returns the deepest nesting, or TOO_DEEP. */
  private attributes(list: KeyValue[] | undefined | null, depth = 0): number {
    let deepest = depth;
    for (const kv of list ?? []) {
      const key = this.text(kv.key);
      if (key !== kv.key) kv.key = key;
      if (kv.value) {
        const d = this.value(kv.value, depth);
        if (d === TOO_DEEP) return TOO_DEEP;
        if (d > deepest) deepest = d;
      }
    }
    return deepest;
  }

  private value(value: AnyValue, depth: number): number {
    if (depth > this.limits.maxValueDepth) return TOO_DEEP;
    if (typeof value.stringValue === 'string') {
      const fixed = this.text(value.stringValue);
      if (fixed !== value.stringValue) value.stringValue = fixed;
      return depth;
    }
    if (value.arrayValue) {
      let deepest = depth;
      for (const v of value.arrayValue.values ?? []) {
        const d = this.value(v, depth + 1);
        if (d === TOO_DEEP) return TOO_DEEP;
        if (d > deepest) deepest = d;
      }
      return deepest;
    }
    if (value.kvlistValue) return this.attributes(value.kvlistValue.values, depth + 1);
    return depth;
  }

  /** Checks an item's attribute lists (count and depth); a reason when it must go. */
  private attributeProblem(lists: (KeyValue[] | undefined | null)[]): string | undefined {
    let count = 0;
    for (const list of lists) count += list?.length ?? 0;
    if (count > this.limits.maxAttributesPerItem) return `more than ${this.limits.maxAttributesPerItem} attributes`;
    for (const list of lists) if (this.attributes(list) === TOO_DEEP) return `an attribute value nested deeper than ${this.limits.maxValueDepth} levels`;
    return undefined;
  }

  private resource(resource: { attributes: KeyValue[] } | null | undefined): void {
    if (resource) this.attributes(resource.attributes);
  }

  private scope(scope: { name?: string; version?: string } | null | undefined): void {
    if (!scope) return;
    scope.name = this.text(scope.name);
    scope.version = this.text(scope.version);
  }

  traces(request: TraceRequest): void {
    for (const rs of request.resourceSpans) {
      this.resource(rs.resource);
      for (const ss of rs.scopeSpans) {
        this.scope(ss.scope);
        ss.spans = ss.spans.filter((span) => {
          const problem = this.spanProblem(span);
          if (problem) this.reject(problem);
          return problem === undefined;
        });
        this.accepted += ss.spans.length;
      }
    }
  }

  private spanProblem(s: Span): string | undefined {
    if (s.traceId?.length !== 16 || isZero(s.traceId)) return 'trace id not 16 bytes or all zero';
    if (s.spanId?.length !== 8 || isZero(s.spanId)) return 'span id not 8 bytes or all zero';
    if (s.parentSpanId && s.parentSpanId.length !== 0 && s.parentSpanId.length !== 8) return 'parent span id not 8 bytes';
    if (!intIn(s.kind, 0, 5)) return `kind ${String(s.kind)} outside 0..5`;
    if (s.status && !intIn(s.status.code, 0, 2)) return `status code ${String(s.status.code)} outside 0..2`;
    if (!validTime(s.startTimeUnixNano) || !validTime(s.endTimeUnixNano)) return 'start or end time outside 1970..9999';
    for (const link of s.links ?? []) {
      if (link.traceId?.length !== 16 || link.spanId?.length !== 8) return 'link with a malformed trace or span id';
    }
    const problem = this.attributeProblem([s.attributes, ...(s.events ?? []).map((e) => e.attributes), ...(s.links ?? []).map((l) => l.attributes)]);
    if (problem) return problem;
    s.name = this.text(s.name);
    if (s.traceState) s.traceState = this.text(s.traceState);
    for (const e of s.events ?? []) {
      e.name = this.text(e.name);
      if (!validTime(e.timeUnixNano)) e.timeUnixNano = 0;
    }
    if (s.status?.message) s.status.message = this.text(s.status.message);
    return undefined;
  }

  logs(request: LogsRequest): void {
    for (const rl of request.resourceLogs) {
      this.resource(rl.resource);
      for (const sl of rl.scopeLogs) {
        this.scope(sl.scope);
        sl.logRecords = sl.logRecords.filter((record) => {
          const problem = this.logProblem(record);
          if (problem) this.reject(problem);
          return problem === undefined;
        });
        this.accepted += sl.logRecords.length;
      }
    }
  }

  private logProblem(l: LogRecord): string | undefined {
    if (l.traceId && l.traceId.length !== 0 && l.traceId.length !== 16) return 'trace id not 16 bytes';
    if (l.spanId && l.spanId.length !== 0 && l.spanId.length !== 8) return 'span id not 8 bytes';
    if (!intIn(l.severityNumber, 0, 24)) return `severity number ${String(l.severityNumber)} outside 0..24`;
    if (!validTime(l.timeUnixNano) || !validTime(l.observedTimeUnixNano)) return 'time outside 1970..9999';
    const problem = this.attributeProblem([l.attributes]);
    if (problem) return problem;
    if (l.body && this.value(l.body, 0) === TOO_DEEP) return `a body nested deeper than ${this.limits.maxValueDepth} levels`;
    if (l.severityText) l.severityText = this.text(l.severityText);
    return undefined;
  }

  metrics(request: MetricsRequest): void {
    for (const rm of request.resourceMetrics) {
      this.resource(rm.resource);
      for (const sm of rm.scopeMetrics) {
        this.scope(sm.scope);
        for (const m of sm.metrics) {
          m.name = this.text(m.name);
          const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
          if (!data) continue;
          data.dataPoints = data.dataPoints.filter((point) => {
            const problem = this.attributeProblem([point.attributes]);
            if (problem) this.reject(problem);
            return problem === undefined;
          });
          this.accepted += data.dataPoints.length;
        }
      }
    }
  }
}
