/**
 * Where segments live: `<root>/<tenant>/<signal>/<name>.seg`, the name being the hour as
 * `YYYYMMDDTHH` (UTC), then — for a replica of a scaled-out service — a dot and the id of the
 * replica that writes it: `20250301T10.replica-a.seg`. Each replica appends to its own files
 * only, so several replicas share one segments directory without two writers on a file. Names
 * without a replica (one service, or data written before replica ids) stay readable. A plain
 * directory listing sorts by time. The sealed segment's chunk manifest sits beside it as
 * `<name>.manifest.json`.
 */
import type { Signal } from './signal-records.js';

export const HOUR_MS = 3_600_000;
const HOUR_KEY_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})$/;
/** A replica id: letters, digits, `_` and `-`, at most 63 (no dot or slash: it is part of a file name). */
export const REPLICA_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const SEGMENT_NAME_RE = /^(\d{8}T\d{2})(?:\.([A-Za-z0-9][A-Za-z0-9_-]{0,62}))?$/;

/** `2025-03-01T10:17:00Z` → `20250301T10`. */
export function hourKey(ms: number): string {
  const iso = new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}`;
}

/** Start of the hour a key names, in ms; NaN when the key is malformed. */
export function hourStart(key: string): number {
  const m = HOUR_KEY_RE.exec(key);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

/** The file name (without `.seg`) of the segment of `hour` written by `replica` (none: the one-service layout). */
export function segmentName(hour: string, replica?: string): string {
  return replica === undefined ? hour : `${hour}.${replica}`;
}

/** `20250301T10.replica-a` → hour and replica; `20250301T10` → hour only; undefined when malformed. */
export function parseSegmentName(name: string): { hour: string; replica?: string } | undefined {
  const m = SEGMENT_NAME_RE.exec(name);
  if (!m || !HOUR_KEY_RE.test(m[1]!)) return undefined;
  return m[2] === undefined ? { hour: m[1]! } : { hour: m[1]!, replica: m[2] };
}

/** The id the index stores for a segment: `<signal>/<name>` (the tenant is the row's own). */
export function segmentId(signal: Signal, name: string): string {
  return `${signal}/${name}`;
}

export interface SegmentRef {
  signal: Signal;
  hour: string;
  /** The replica that writes the segment; absent for the one-service layout. */
  replica?: string;
  /** The file name without `.seg`. */
  name: string;
}

export function parseSegmentId(id: string): SegmentRef | undefined {
  const [signal, name, extra] = id.split('/');
  if (extra !== undefined || !name) return undefined;
  if (signal !== 'traces' && signal !== 'logs' && signal !== 'metrics') return undefined;
  const parsed = parseSegmentName(name);
  return parsed && { signal, name, ...parsed };
}
