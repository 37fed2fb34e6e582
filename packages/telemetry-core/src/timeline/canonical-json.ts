/**
 * Canonical JSON for digests and bus bytes: RFC 8785 (JCS) as the `canonicalize` package writes
 * it — the package the forensics library's `jcs` uses too, so an event digest computed here and
 * re-checked there (or the other way round) hashes the same bytes. The two libraries import
 * nothing of each other; they share the package, and the same rules for what is accepted.
 *
 * Checked first, in one walk, since canonicalize leaves these open: plain objects and arrays only
 * (a value with `toJSON`, such as a Date, is replaced by its result once, as JSON.stringify
 * would), finite numbers, strings without lone surrogates, at most 1000 levels deep (which also
 * stops cycles). Object members whose value is `undefined` are left out; `undefined` inside an
 * array (or a hole) is `null`. Functions, symbols, bigint, Map and class instances are refused
 * with a CanonicalJsonError (a TypeError) saying where they sit, never silently dropped or
 * turned into `{}`.
 */
import canonicalize from 'canonicalize';

/** Member names and indexes from the root to the offending value. */
export type JsonTrail = readonly (string | number)[];

export class CanonicalJsonError extends TypeError {
  override readonly name = 'CanonicalJsonError';
  constructor(
    /** Where the offending value sits: member names and array indexes from the root. */
    readonly trail: JsonTrail,
    /** What is wrong with it, e.g. `is not a finite number`. */
    readonly reason: string,
  ) {
    super(`canonical JSON cannot encode ${spell(trail)}: it ${reason}`);
  }
}

/** `$.a[2].b`; a cycle or a hostile nesting by its first and last steps, not a thousand of them. */
function spell(trail: JsonTrail): string {
  const steps = (part: JsonTrail): string => part.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
  return trail.length <= 24 ? `$${steps(trail)}` : `$${steps(trail.slice(0, 16))}…${steps(trail.slice(-4))}`;
}

/** RFC 8785 canonical JSON of `value`; throws CanonicalJsonError for what JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  const json = checked(value, [], 0);
  let text: string | undefined;
  try {
    text = canonicalize(json);
  } catch (cause) {
    // Unreachable for checked input: everything canonicalize refuses is refused above.
    throw new CanonicalJsonError([], `cannot be canonicalized (${(cause as Error).message})`);
  }
  if (text === undefined) throw new CanonicalJsonError([], 'is not a JSON value');
  return text;
}

const MAX_DEPTH = 1000;

function bad(trail: (string | number)[], reason: string): never {
  throw new CanonicalJsonError([...trail], reason);
}

/**
 * Checks `input` and returns what canonicalize is to serialize: `input` itself, or — only where a
 * `toJSON` result or an `undefined` array item replaces a value — a copy of the containers on the
 * way to it, so canonicalize never calls `toJSON` a second time.
 */
function checked(input: unknown, trail: (string | number)[], depth: number): unknown {
  if (depth > MAX_DEPTH) bad(trail, `nests deeper than ${MAX_DEPTH} levels`);
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON('');
  }
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) bad(trail, 'holds a lone surrogate');
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
    if (!key.isWellFormed()) bad(trail, 'has a member name with a lone surrogate');
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
