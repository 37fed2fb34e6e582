import canonicalize from 'canonicalize';
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
 * The bytes are those of the `canonicalize` package (the RFC's reference implementation for
 * JavaScript), which telemetry-core uses for timeline events too, so both libraries write the
 * same canonical JSON. This function adds what that package leaves open, checked first in one
 * walk: input must be I-JSON — finite numbers only, no lone surrogates, plain objects and arrays
 * (a value with `toJSON`, such as a Date, is replaced by its result once, as JSON.stringify
 * would), at most 1000 levels deep (which also stops cycles). Object members whose value is
 * `undefined` are left out; `undefined` inside an array (or a hole) is `null`. Anything else
 * (functions, symbols, bigint, Map, class instances) is refused with `invalid_argument` naming
 * where it sits (`$.files[3].path`), rather than silently turned into `{}`.
 */
export function jcs(value: unknown): string {
  const json = checked(value, [], 0);
  let text: string | undefined;
  try {
    text = canonicalize(json);
  } catch (cause) {
    // Unreachable for checked input: everything canonicalize refuses is refused above.
    throw new ForensicsError('invalid_argument', `$ cannot be canonicalized: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) throw new ForensicsError('invalid_argument', '$ is not a JSON value');
  return text;
}

export function jcsBytes(value: unknown): Buffer {
  return Buffer.from(jcs(value), 'utf8');
}

const MAX_DEPTH = 1000;

/** Member names and indexes from the root to the value at hand, spelled out only for an error. */
type Trail = (string | number)[];

function bad(trail: Trail, why: string): never {
  const spell = (steps: Trail): string => steps.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');
  // A cycle or a hostile nesting is named by its first and last steps, not a thousand of them.
  const at = trail.length <= 24 ? spell(trail) : `${spell(trail.slice(0, 16))}…${spell(trail.slice(-4))}`;
  throw new ForensicsError('invalid_argument', `$${at} ${why}`);
}

/**
 * Checks `input` against the rules above and returns what canonicalize is to serialize: `input`
 * itself, or — only where a `toJSON` result or an `undefined` array item replaces a value — a
 * copy of the containers on the way to it, so canonicalize never calls `toJSON` a second time.
 */
function checked(input: unknown, trail: Trail, depth: number): unknown {
  if (depth > MAX_DEPTH) bad(trail, `nests deeper than ${MAX_DEPTH} levels`);
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON('');
  }
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) bad(trail, 'holds a lone surrogate (not I-JSON, RFC 8785 §3.2.2.2)');
      return value;
    case 'number':
      if (!Number.isFinite(value)) bad(trail, 'is not a finite number');
      return value;
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return null;
      break;
    default:
      bad(trail, `has a type JSON cannot hold (${typeof value})`);
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      let next: unknown = null;
      if (item !== undefined) {
        trail.push(i);
        next = checked(item, trail, depth + 1);
        trail.pop();
      }
      if (copy !== undefined) copy.push(next);
      else if (next !== item) {
        copy = value.slice(0, i) as unknown[];
        copy.push(next);
      }
    }
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) bad(trail, `is a ${(value as object).constructor?.name ?? 'non-plain'} object, not plain JSON`);
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (!key.isWellFormed()) bad(trail, 'member name holds a lone surrogate (not I-JSON, RFC 8785 §3.2.2.2)');
    const member = record[key];
    if (member === undefined) continue;
    trail.push(key);
    const next = checked(member, trail, depth + 1);
    trail.pop();
    if (next !== member) {
      // A null-prototype copy, so that a member named "__proto__" stays a member.
      copy ??= Object.assign(Object.create(null) as Record<string, unknown>, record);
      copy[key] = next;
    }
  }
  return copy ?? record;
}
