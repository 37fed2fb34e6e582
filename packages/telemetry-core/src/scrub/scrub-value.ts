/**
 * Structured scrubbing: walks a value, applies key rules, the allowlist and the text rules, and
 * copies on write — a subtree in which nothing changed is returned as the same reference, so a
 * clean log object costs no allocation.
 */
import { marker } from './marker.js';
import {
  KEY_CACHE_LIMIT,
  resolvePolicy,
  type CompiledScrubPolicy,
  type KeyInfo,
  type ScrubPolicy,
} from './policy.js';
import { mayNeedScrub, scrubTextCompiled } from './scrub-text.js';

/** Deeper structures are cut here; log payloads are never legitimately this deep. */
export const MAX_SCRUB_DEPTH = 32;

/**
 * What `scrubValue` returns: strings stay strings and scalars stay themselves; objects may come
 * back in a JSON-friendly form (Error → plain object, Buffer → `[binary N bytes]`, Map → object,
 * Set → array, values under sensitive keys → marker strings), hence `unknown`.
 */
export type Scrubbed<T> = T extends string
  ? string
  : T extends number | boolean | bigint | symbol | null | undefined
    ? T
    : unknown;

const KEY_INFOS: readonly KeyInfo[] = [
  { allowed: false, sensitive: false, scrubKey: false },
  { allowed: false, sensitive: false, scrubKey: true },
  { allowed: true, sensitive: false, scrubKey: false },
  { allowed: true, sensitive: false, scrubKey: true },
  { allowed: false, sensitive: true, scrubKey: false },
  { allowed: false, sensitive: true, scrubKey: true },
].map((info) => Object.freeze(info));

/** Classifies a key (allowlisted / sensitive / neither), cached per policy. */
export function keyInfo(policy: CompiledScrubPolicy, key: string): KeyInfo {
  const cached = policy.keyCache.get(key);
  if (cached !== undefined) return cached;
  const lower = key.toLowerCase();
  let index = mayNeedScrub(key, policy) ? 1 : 0;
  if (policy.allowKeys.has(lower)) index += 2;
  else if (policy.redactKeys.some((needle) => lower.includes(needle))) index += 4;
  const info = KEY_INFOS[index]!;
  if (policy.keyCache.size < KEY_CACHE_LIMIT) policy.keyCache.set(key, info);
  return info;
}

/**
 * Keys are scrubbed too (a map keyed by e-mail address must not leak them). Not cached: the
 * result can depend on a deep-debug grant; the cached prefilter answer keeps clean keys free.
 */
function scrubKey(key: string, policy: CompiledScrubPolicy): string {
  return keyInfo(policy, key).scrubKey ? scrubTextCompiled(key, policy) : key;
}

/** What a value under a sensitive key becomes. */
export function redactUnderKey(value: unknown, policy: CompiledScrubPolicy): unknown {
  // Absence and flags disclose nothing; everything else under a sensitive key goes.
  if (value === null || value === undefined || value === '' || typeof value === 'boolean') return value;
  if (policy.hashKey === undefined) return '[REDACTED:key]';
  let raw: string;
  if (typeof value === 'string') raw = value;
  else {
    try {
      raw = JSON.stringify(value) ?? String(value);
    } catch {
      raw = String(value);
    }
  }
  return marker('key', raw, policy);
}

/** Ancestors of the node being visited (cycle detection); shared, used strictly LIFO. */
const ancestors: object[] = [];

function setProp(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/** Scrubs one property value under `key`. */
function scrubUnder(key: string, value: unknown, policy: CompiledScrubPolicy, depth: number): unknown {
  const info = keyInfo(policy, key);
  if (info.allowed) return value;
  if (info.sensitive) return redactUnderKey(value, policy);
  if (typeof value === 'string') return scrubTextCompiled(value, policy);
  if (typeof value === 'object' && value !== null) return scrubObject(value, policy, depth);
  return value;
}

function scrubAny(value: unknown, policy: CompiledScrubPolicy, depth: number): unknown {
  if (typeof value === 'string') return scrubTextCompiled(value, policy);
  if (typeof value === 'object' && value !== null) return scrubObject(value, policy, depth);
  return value;
}

function scrubPlain(obj: Record<string, unknown>, policy: CompiledScrubPolicy, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    const info = keyInfo(policy, key);
    let next = value;
    if (!info.allowed) {
      if (info.sensitive) next = redactUnderKey(value, policy);
      else if (typeof value === 'string') next = scrubTextCompiled(value, policy);
      else if (typeof value === 'object' && value !== null) next = scrubObject(value, policy, depth);
    }
    const outKey = info.scrubKey ? scrubTextCompiled(key, policy) : key;
    if (next !== value || outKey !== key) {
      if (out === undefined) {
        out = {};
        for (const earlier in obj) {
          if (earlier === key) break;
          setProp(out, earlier, obj[earlier]);
        }
      }
      setProp(out, outKey, next);
    } else if (out !== undefined) {
      setProp(out, key, value);
    }
  }
  return out ?? obj;
}

/** Class instances without toJSON: own enumerable props, as JSON.stringify would see them. */
function scrubOwnProps(obj: object, policy: CompiledScrubPolicy, depth: number): object {
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = record[key];
    const next = scrubUnder(key, value, policy, depth);
    const outKey = scrubKey(key, policy);
    if (next !== value || outKey !== key) {
      if (out === undefined) {
        out = {};
        for (let j = 0; j < i; j++) setProp(out, keys[j]!, record[keys[j]!]);
      }
      setProp(out, outKey, next);
    } else if (out !== undefined) {
      setProp(out, key, value);
    }
  }
  return out ?? obj;
}

function scrubArray(arr: readonly unknown[], policy: CompiledScrubPolicy, depth: number): readonly unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const value = arr[i];
    const next = scrubAny(value, policy, depth);
    if (next !== value) {
      out ??= arr.slice(0, i);
      out.push(next);
    } else if (out !== undefined) {
      out.push(value);
    }
  }
  return out ?? arr;
}

function scrubError(err: Error, policy: CompiledScrubPolicy, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: scrubTextCompiled(String(err.name), policy),
    message: scrubTextCompiled(String(err.message), policy),
  };
  if (typeof err.stack === 'string') out.stack = scrubTextCompiled(err.stack, policy);
  const { code } = err as { code?: unknown };
  if (code !== undefined) out.code = scrubAny(code, policy, depth);
  if (err.cause !== undefined) out.cause = scrubAny(err.cause, policy, depth);
  if (err instanceof AggregateError) out.errors = scrubAny(err.errors, policy, depth);
  for (const key of Object.keys(err)) {
    if (key in out || key === 'cause') continue;
    setProp(out, scrubKey(key, policy), scrubUnder(key, (err as unknown as Record<string, unknown>)[key], policy, depth));
  }
  return out;
}

function scrubMap(map: Map<unknown, unknown>, policy: CompiledScrubPolicy, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of map) {
    const key = typeof k === 'string' ? k : String(k);
    setProp(out, scrubKey(key, policy), scrubUnder(key, v, policy, depth));
  }
  return out;
}

function scrubObject(obj: object, policy: CompiledScrubPolicy, depth: number): unknown {
  if (ancestors.includes(obj)) return '[Circular]';
  if (depth >= MAX_SCRUB_DEPTH) return '[Truncated: too deep]';
  const proto: unknown = Object.getPrototypeOf(obj);
  ancestors.push(obj);
  try {
    if (proto === Object.prototype || proto === null) return scrubPlain(obj as Record<string, unknown>, policy, depth + 1);
    if (Array.isArray(obj)) return scrubArray(obj, policy, depth + 1);
    if (ArrayBuffer.isView(obj)) return `[binary ${obj.byteLength} bytes]`;
    if (obj instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && obj instanceof SharedArrayBuffer)) {
      return `[binary ${obj.byteLength} bytes]`;
    }
    if (obj instanceof Error) return scrubError(obj, policy, depth + 1);
    if (obj instanceof Date) return obj;
    if (obj instanceof Map) return scrubMap(obj, policy, depth + 1);
    if (obj instanceof Set) return scrubArray([...obj], policy, depth + 1);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    // URL and similar serialise through toJSON; scrub what the serialiser would write.
    if (typeof toJSON === 'function') return scrubAny(toJSON.call(obj), policy, depth + 1);
    return scrubOwnProps(obj, policy, depth + 1);
  } finally {
    ancestors.pop();
  }
}

function unserializable(err: unknown, mark: number): string {
  ancestors.length = mark;
  return `[unserializable: ${err instanceof Error ? err.name : typeof err}]`;
}

/** Scrubs a value with an already compiled policy (the logger's hot path). */
export function scrubValueCompiled(value: unknown, policy: CompiledScrubPolicy): unknown {
  if (typeof value === 'string') return scrubTextCompiled(value, policy);
  if (typeof value !== 'object' || value === null) return value;
  const mark = ancestors.length;
  try {
    return scrubObject(value, policy, 0);
  } catch (err) {
    // A throwing getter or toJSON must never make logging throw.
    return unserializable(err, mark);
  }
}

/**
 * Deep copy of `value` with secrets redacted: key rules and the allowlist at any depth, text
 * rules on every string. Copy-on-write: unchanged subtrees (and a wholly clean value) are
 * returned as the same reference. Cycles become `[Circular]`.
 */
export function scrubValue<T>(value: T, policy?: ScrubPolicy | CompiledScrubPolicy): Scrubbed<T> {
  return scrubValueCompiled(value, resolvePolicy(policy)) as Scrubbed<T>;
}

/**
 * Scrubs `value` as it would be scrubbed under `key` in an object: allowlisted keys pass,
 * sensitive keys give a marker, anything else is scrubbed by value. For the logger's top-level
 * fields, so it need not build an object to scrub.
 */
export function scrubKeyValue(key: string, value: unknown, policy?: ScrubPolicy | CompiledScrubPolicy): unknown {
  const compiled = resolvePolicy(policy);
  if (typeof value !== 'object' || value === null) return scrubUnder(key, value, compiled, 0);
  const mark = ancestors.length;
  try {
    return scrubUnder(key, value, compiled, 0);
  } catch (err) {
    return unserializable(err, mark);
  }
}
