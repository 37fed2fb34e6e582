/**
 * The canonical `timeline_event` (SPEC TL-1) and its content digest. The digest is SHA-256
 * over the canonical JSON of every field but `digest` itself, with `ts` in
 * `Date.prototype.toISOString()` form, so any party holding the event can recompute it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
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

/** `sha256:<hex>` over the canonical JSON of `event` without its `digest`. */
export function timelineEventDigest(event: Omit<TimelineEvent, 'digest'> | TimelineEvent): string {
  const { digest: _ignored, ...rest } = event as TimelineEvent;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

function optionalText(value: unknown, field: keyof typeof TEXT_LIMITS): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > TEXT_LIMITS[field] || hasControlCharacter(value)) {
    throw new TimelineError('timeline.event_invalid', `${field} must be a string of at most ${TEXT_LIMITS[field]} printable characters`, field);
  }
  return value;
}

function normalizeTs(value: string | Date | undefined, clock: () => number): string {
  if (value === undefined) return new Date(clock()).toISOString();
  const date = value instanceof Date ? value : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new TimelineError('timeline.event_invalid', 'ts must be an ISO 8601 date-time such as 2025-01-31T12:00:00.000Z', 'ts');
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
  const details = options.scrub ? options.scrub(rawDetails) : rawDetails;
  let detailsJson: string;
  try {
    detailsJson = canonicalJson(details);
  } catch (cause) {
    throw new TimelineError('timeline.event_invalid', 'details must contain only JSON values', 'details', { cause });
  }
  const maxBytes = options.maxDetailsBytes ?? 16_384;
  if (Buffer.byteLength(detailsJson) > maxBytes) {
    throw new TimelineError('timeline.details_too_large', `details must be at most ${maxBytes} bytes of canonical JSON`, 'details');
  }
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
    details: JSON.parse(detailsJson) as Record<string, unknown>,
  };
  const digest = timelineEventDigest(body);
  if (input.digest !== undefined) {
    if (typeof input.digest !== 'string' || !DIGEST_RE.test(input.digest)) {
      throw new TimelineError('timeline.event_invalid', 'digest must be "sha256:" followed by 64 lower-case hex characters', 'digest');
    }
    if (input.digest !== digest) {
      throw new TimelineError(
        'timeline.digest_mismatch',
        'digest does not match the canonical event (SHA-256 over sorted-key JSON of all fields but digest, ts as toISOString(), details after scrubbing)',
        'digest',
      );
    }
  }
  return { ...body, digest };
}

/** Serializes an event for the bus (canonical JSON, digest included). */
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
