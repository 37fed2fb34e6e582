/**
 * The canonical `timeline_event` (SPEC TL-1) and its content digest. The digest is SHA-256
 * over the RFC 8785 canonical JSON (see canonical-json.ts: the same bytes as the forensics
 * library's `jcs`) of every field but `digest` itself, with `ts` in
 * `Date.prototype.toISOString()` form, so any party holding the event can recompute it.
 *
 * An event that builds is an event that stores (STO-5): `ts` lies in years 1970..9999 (what a
 * PostgreSQL `timestamptz` and ISO 8601 without an expanded year both hold), and no text field
 * and no string of `details` (keys and values, at any depth) holds NUL (U+0000) or a lone
 * surrogate, which PostgreSQL `text` and `jsonb` refuse or silently replace. Such input is
 * refused with the field at fault, never normalised: the digest covers it.
 */
import { createHash } from 'node:crypto';
import { CanonicalJsonError, canonicalJson } from './canonical-json.js';
import { TimelineError } from './errors.js';
import { assertTenantId, isValidKind } from './subjects.js';
import { isUuid, uuidv7 } from './uuidv7.js';

export interface TimelineEvent {
  /** UUIDv7. */
  event_id: string;
  /** ISO 8601 UTC with milliseconds. */
  ts: string;
  tenant_id: string;
  project_id: string | null;
  /** Dotted lower-case name: `policy.evaluated`, `evidence.bundle.committed`, `audit.*` for privileged actions. */
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  /** W3C trace id (32 hex) of the work that caused the event. */
  trace_id: string | null;
  details: Record<string, unknown>;
  /** `sha256:<hex>` over the canonical JSON of the other fields. */
  digest: string;
}

/** What a caller supplies; absent fields come from the active context or are generated. */
export interface TimelineEventInput {
  kind: string;
  resource_type?: string | null;
  resource_id?: string | null;
  details?: Record<string, unknown>;
  tenant_id?: string;
  project_id?: string | null;
  actor?: string | null;
  trace_id?: string | null;
  event_id?: string;
  ts?: string | Date;
  /** When given, must equal the digest computed here (after details are scrubbed). */
  digest?: string;
}

export interface BuildTimelineEventOptions {
  /** Scrubs `details` before hashing. Default: identity (the emitter passes telemetry-core's scrubber). */
  scrub?: (details: Record<string, unknown>) => Record<string, unknown>;
  /** Clock for `ts` and the event id. Default `Date.now`. */
  clock?: () => number;
  /** Largest canonical size of `details` in bytes. Default 16384. */
  maxDetailsBytes?: number;
}

const TRACE_ID_RE = /^[0-9a-f]{32}$/;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const TEXT_LIMITS = { project_id: 128, actor: 256, resource_type: 64, resource_id: 512 } as const;
/** Earliest and latest `ts` accepted: the years 1970..9999. */
const MIN_TS_MS = Date.UTC(1970, 0, 1);
const MAX_TS_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const TS_RULE = 'ts must be an ISO 8601 date-time such as 2025-01-31T12:00:00.000Z, in the years 1970 to 9999';
/** Deepest nesting of objects and arrays accepted in `details` (the root object is level 1). */
export const MAX_DETAILS_DEPTH = 32;
/** NUL and every surrogate code unit: the fast gate before the exact check. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const SUSPECT_RE = /[\u0000\uD800-\uDFFF]/;

/** `sha256:<hex>` over the RFC 8785 canonical JSON of `event` without its `digest`. */
export function timelineEventDigest(event: Omit<TimelineEvent, 'digest'> | TimelineEvent): string {
  const { digest: _ignored, ...rest } = event as TimelineEvent;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * What a PostgreSQL `text` or `jsonb` value cannot hold, or undefined when `value` stores as is:
 * NUL (U+0000), or a surrogate code unit that is not half of a pair (not well-formed UTF-16).
 */
export function unstorableTextReason(value: string): string | undefined {
  if (!SUSPECT_RE.test(value)) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return 'contains NUL (U+0000)';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return `contains a lone surrogate (U+${c.toString(16).toUpperCase()}): strings must be well-formed Unicode`;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return `contains a lone surrogate (U+${c.toString(16).toUpperCase()}): strings must be well-formed Unicode`;
    }
  }
  return undefined;
}

/** `details.a.b`, `details.a[2]`, or `details["odd key"]` for keys that are not plain names. */
function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Refuses anything in `details` a store would refuse or alter: NUL and lone surrogates in keys
 * and string values, nesting deeper than MAX_DETAILS_DEPTH (which also stops cycles). Names the
 * offending member. Iterative, so hostile depth cannot exhaust the stack.
 */
function assertStorableDetails(details: Record<string, unknown>): void {
  const stack: [unknown, string, number][] = [[details, 'details', 1]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'string') {
      const reason = unstorableTextReason(value);
      if (reason) throw new TimelineError('timeline.event_invalid', `${path} ${reason}`, path);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DETAILS_DEPTH) {
      throw new TimelineError('timeline.event_invalid', `${path}: details may nest objects and arrays at most ${MAX_DETAILS_DEPTH} levels deep`, path);
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const reason = unstorableTextReason(key);
      const keyPath = childPath(path, key);
      if (reason) throw new TimelineError('timeline.event_invalid', `${keyPath}: the key ${reason}`, keyPath);
      stack.push([(value as Record<string, unknown>)[key], keyPath, depth + 1]);
    }
  }
}

function optionalText(value: unknown, field: keyof typeof TEXT_LIMITS): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > TEXT_LIMITS[field] || hasControlCharacter(value)) {
    throw new TimelineError('timeline.event_invalid', `${field} must be a string of at most ${TEXT_LIMITS[field]} printable characters`, field);
  }
  const reason = unstorableTextReason(value);
  if (reason) throw new TimelineError('timeline.event_invalid', `${field} ${reason}`, field);
  return value;
}

function normalizeTs(value: string | Date | undefined, clock: () => number): string {
  const date =
    value === undefined
      ? new Date(clock())
      : value instanceof Date
        ? value
        : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)
          ? new Date(value)
          : new Date(NaN);
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new TimelineError('timeline.event_invalid', TS_RULE, 'ts');
  if (ms < MIN_TS_MS || ms > MAX_TS_MS) {
    throw new TimelineError('timeline.event_invalid', `${TS_RULE} (store-safe for PostgreSQL timestamptz); got year ${date.getUTCFullYear()}`, 'ts');
  }
  return date.toISOString();
}

/**
 * Builds a complete, validated event: fills `event_id` and `ts`, scrubs `details`, computes the
 * digest. Throws a `TimelineError` naming the offending field.
 */
export function buildTimelineEvent(input: TimelineEventInput, options: BuildTimelineEventOptions = {}): TimelineEvent {
  const clock = options.clock ?? Date.now;
  if (input === null || typeof input !== 'object') throw new TimelineError('timeline.event_invalid', 'an event must be an object');
  assertTenantId(input.tenant_id);
  if (!isValidKind(input.kind)) {
    throw new TimelineError('timeline.kind_invalid', 'kind must be a dotted lower-case name such as "policy.evaluated" (at most 128 characters, 8 segments)', 'kind');
  }
  const eventId = input.event_id ?? uuidv7(clock());
  if (typeof eventId !== 'string' || !isUuid(eventId)) {
    throw new TimelineError('timeline.event_invalid', 'event_id must be a lower-case UUID (UUIDv7 recommended)', 'event_id');
  }
  let traceId: string | null = null;
  if (input.trace_id !== undefined && input.trace_id !== null && input.trace_id !== '') {
    if (typeof input.trace_id !== 'string' || !TRACE_ID_RE.test(input.trace_id) || /^0+$/.test(input.trace_id)) {
      throw new TimelineError('timeline.event_invalid', 'trace_id must be 32 lower-case hex characters, not all zero', 'trace_id');
    }
    traceId = input.trace_id;
  }
  const rawDetails = input.details ?? {};
  if (rawDetails === null || typeof rawDetails !== 'object' || Array.isArray(rawDetails)) {
    throw new TimelineError('timeline.event_invalid', 'details must be a JSON object', 'details');
  }
  // Checked as given (so the error names the caller's member) and again as stored (the scrubber
  // rewrites strings and may rewrite keys).
  assertStorableDetails(rawDetails as Record<string, unknown>);
  const details = options.scrub ? options.scrub(rawDetails) : rawDetails;
  let detailsJson: string;
  try {
    detailsJson = canonicalJson(details);
  } catch (cause) {
    if (cause instanceof CanonicalJsonError) {
      const field = cause.trail.reduce<string>((path, step) => (typeof step === 'number' ? `${path}[${step}]` : childPath(path, step)), 'details');
      throw new TimelineError('timeline.event_invalid', `${field} ${cause.reason}: details must contain only JSON values`, field, { cause });
    }
    throw new TimelineError('timeline.event_invalid', 'details must contain only JSON values', 'details', { cause });
  }
  const maxBytes = options.maxDetailsBytes ?? 16_384;
  if (Buffer.byteLength(detailsJson) > maxBytes) {
    throw new TimelineError('timeline.details_too_large', `details must be at most ${maxBytes} bytes of canonical JSON`, 'details');
  }
  const storedDetails = JSON.parse(detailsJson) as Record<string, unknown>;
  if (details !== rawDetails) assertStorableDetails(storedDetails);
  const body: Omit<TimelineEvent, 'digest'> = {
    event_id: eventId,
    ts: normalizeTs(input.ts, clock),
    tenant_id: input.tenant_id,
    project_id: optionalText(input.project_id, 'project_id'),
    kind: input.kind,
    actor: optionalText(input.actor, 'actor'),
    resource_type: optionalText(input.resource_type, 'resource_type'),
    resource_id: optionalText(input.resource_id, 'resource_id'),
    trace_id: traceId,
    details: storedDetails,
  };
  const digest = timelineEventDigest(body);
  if (input.digest !== undefined) {
    if (typeof input.digest !== 'string' || !DIGEST_RE.test(input.digest)) {
      throw new TimelineError('timeline.event_invalid', 'digest must be "sha256:" followed by 64 lower-case hex characters', 'digest');
    }
    if (input.digest !== digest) {
      throw new TimelineError(
        'timeline.digest_mismatch',
        'digest does not match the canonical event (SHA-256 over the RFC 8785 canonical JSON of all fields but digest, ts as toISOString(), details after scrubbing)',
        'digest',
      );
    }
  }
  return { ...body, digest };
}

/** Serializes an event for the bus (RFC 8785 canonical JSON, digest included). */
export function encodeTimelineEvent(event: TimelineEvent): Uint8Array {
  return Buffer.from(canonicalJson(event));
}

/**
 * Parses and fully re-validates an event received from the bus; the digest must match, so a
 * consumer never stores a record that was altered or half-formed on the way.
 */
export function decodeTimelineEvent(data: Uint8Array): TimelineEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (cause) {
    throw new TimelineError('timeline.event_invalid', 'message is not JSON', undefined, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TimelineError('timeline.event_invalid', 'message is not a JSON object');
  }
  const p = parsed as Record<string, unknown>;
  if (typeof p['digest'] !== 'string') throw new TimelineError('timeline.event_invalid', 'digest is missing', 'digest');
  if (typeof p['event_id'] !== 'string') throw new TimelineError('timeline.event_invalid', 'event_id is missing', 'event_id');
  if (typeof p['ts'] !== 'string') throw new TimelineError('timeline.event_invalid', 'ts is missing', 'ts');
  return buildTimelineEvent(p as unknown as TimelineEventInput);
}
