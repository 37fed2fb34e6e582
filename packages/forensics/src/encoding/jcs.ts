import { ForensicsError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one canonical JSON of this library, used for
 * every JSON that is signed or hashed — manifests, DSSE payloads (in-toto statements, key ring
 * entries), the Sigstore bundle, the JSON files the snapshot builders write and the environment
 * digest. No whitespace; object members sorted by the UTF-16 code units of their names (at
 * every depth, integer-like names included); numbers in ECMAScript's shortest round-trip form
 * (`-0` is `0`); strings with only `"`, `\` and U+0000..U+001F escaped (`\b \t \n \f \r`, else
 * `\u00xx`) and everything else as literal UTF-8.
 *
 * Input is checked to be I-JSON: finite numbers only, no lone surrogates, plain objects and
 * arrays (a value with `toJSON`, such as a Date, is replaced by its result as JSON.stringify
 * would). Object members whose value is `undefined` are left out; `undefined` inside an array
 * is `null`. Anything else (functions, symbols, bigint, Map, class instances) is refused with
 * `invalid_argument` rather than silently turned into `{}`.
 */
export function jcs(value: unknown): string {
  const out: string[] = [];
  write(value, ROOT, out, 0);
  return out.join('');
}

export function jcsBytes(value: unknown): Buffer {
  return Buffer.from(jcs(value), 'utf8');
}

const MAX_DEPTH = 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where a value sits (`$.files[3].path`), spelled out only for an error message. */
type At = () => string;
const ROOT: At = () => '$';

function bad(at: At, why: string): never {
  throw new ForensicsError('invalid_argument', `${at()} ${why}`);
}

const wellFormed = typeof ''.isWellFormed === 'function' ? (s: string): boolean => s.isWellFormed() : (s: string): boolean => !LONE_SURROGATE.test(s);

function string(s: string, at: At): string {
  if (!wellFormed(s)) bad(at, 'holds a lone surrogate (not I-JSON, RFC 8785 §3.2.2.2)');
  // JSON.stringify (ES2019+) escapes exactly what RFC 8785 asks: the two-character forms for
  // \b \t \n \f \r " \, \u00xx (lowercase) for the other control characters, nothing else.
  return JSON.stringify(s);
}

/** Serialized member names, remembered: the same few names recur in every object of an array. */
const NAMES = new Map<string, string>();

function memberName(key: string, at: At): string {
  let name = NAMES.get(key);
  if (name === undefined) {
    name = `${string(key, () => `${at()} member name`)}:`;
    if (NAMES.size < 4096) NAMES.set(key, name);
  }
  return name;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function write(input: unknown, at: At, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) bad(at, `nests deeper than ${MAX_DEPTH} levels`);
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON('');
  }
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) bad(at, 'is not a finite number');
      // ECMAScript Number::toString — the serialization RFC 8785 §3.2.2.3 prescribes; -0 → "0".
      out.push(JSON.stringify(value));
      return;
    case 'string':
      out.push(string(value, at));
      return;
    case 'object':
      break;
    default:
      bad(at, `has a type JSON cannot hold (${typeof value})`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item = value[i] as unknown;
      write(item === undefined ? null : item, () => `${at()}[${i}]`, out, depth + 1);
    }
    out.push(']');
    return;
  }
  if (!isPlainObject(value as object)) bad(at, `is a ${(value as object).constructor?.name ?? 'non-plain'} object, not plain JSON`);
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is RFC 8785 §3.2.3's order.
  const keys = Object.keys(record).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(memberName(key, at));
    write(v, () => `${at()}.${key}`, out, depth + 1);
  }
  out.push('}');
}
