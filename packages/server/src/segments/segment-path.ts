/**
 * Where segments live: `<root>/<tenant>/<signal>/<hour>.seg`, the hour as `YYYYMMDDTHH` (UTC) so
 * a plain directory listing sorts by time. The sealed segment's chunk manifest sits beside it
 * as `<hour>.manifest.json`.
 */
import type { Signal } from './signal-records.js';

export const HOUR_MS = 3_600_000;
const HOUR_KEY_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})$/;

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

/** The id the index stores for a segment: `<signal>/<hour>` (the tenant is the row's own). */
export function segmentId(signal: Signal, hour: string): string {
  return `${signal}/${hour}`;
}

export function parseSegmentId(id: string): { signal: Signal; hour: string } | undefined {
  const [signal, hour, extra] = id.split('/');
  if (extra !== undefined || !hour || !HOUR_KEY_RE.test(hour)) return undefined;
  if (signal !== 'traces' && signal !== 'logs' && signal !== 'metrics') return undefined;
  return { signal, hour };
}
