import { ForensicsError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Deterministic JSON: object keys sorted by UTF-16 code unit (JSON.stringify's own order is
 * insertion order, which leaks map-building order into signed bytes), two-space indentation so
 * auditors can read it, a trailing newline. Only finite numbers; `undefined` members are dropped.
 */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(normalize(value, '$'), null, 2)}\n`;
}

/** Compact canonical form, for payloads embedded in other structures (DSSE statements, log entries). */
export function canonicalJsonCompact(value: unknown): string {
  return JSON.stringify(normalize(value, '$'));
}

function normalize(value: unknown, at: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ForensicsError('invalid_argument', `${at} is not a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => normalize(v === undefined ? null : v, `${at}[${i}]`));
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v, `${at}.${key}`);
    }
    return out;
  }
  throw new ForensicsError('invalid_argument', `${at} has a type JSON cannot hold (${typeof value})`);
}
