/**
 * Scrubbing fused with serialisation, for the logger's hot path: a record becomes the members
 * of a JSON line (`,"key":value…`) in one walk. Each string is scanned once — for secrets and
 * for characters JSON must escape — and each key's verdict (allowlisted, sensitive) and JSON
 * form are worked out once per key rather than once per line. What it writes is what
 * `JSON.stringify` gives for `scrubValue`'s result, minus the braces.
 */
import { KEY_CACHE_LIMIT, type CompiledScrubPolicy, type KeyInfo } from './policy.js';
import { jsonQuote, lastTextWasClean, scrubTextCompiled, scrubTextToJson } from './scrub-text.js';
import { keyInfo, redactUnderKey, scrubValueCompiled } from './scrub-value.js';

/** Nothing is remembered for a key until it has held a value (NaN never equals itself). */
const NOTHING = Number.NaN;

interface MemberKey {
  readonly info: KeyInfo;
  /** `,"key":`; undefined when the key itself holds something to scrub (done on each use). */
  readonly json: string | undefined;
  /** The caller's bit for this key. */
  readonly bit: number;
  /**
   * The last value written under this key and its whole member (`,"key":value`), when the
   * result is the same whatever the state: numbers, booleans, allowlisted strings and strings
   * no rule could apply to. Routes, methods, status codes and the like repeat line after line;
   * a clean verdict holds under any deep-debug grant, and values a rule looked at are never
   * kept, so reuse is exact.
   */
  last: unknown;
  lastMember: string;
}

/** JSON of a nested value; never throws (a hostile `toJSON` was already caught by scrubbing). */
function stringifyNested(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    try {
      return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    } catch (err) {
      return jsonQuote(`[unserializable: ${err instanceof Error ? err.name : typeof err}]`);
    }
  }
}

/** JSON of one value as scrubbed under a key with `info`; undefined when nothing is written. */
function valueJson(value: unknown, info: KeyInfo, policy: CompiledScrubPolicy): string | undefined {
  let v = value;
  if (info.sensitive && !info.allowed) v = redactUnderKey(v, policy);
  switch (typeof v) {
    case 'string':
      return info.allowed || info.sensitive ? jsonQuote(v) : scrubTextToJson(v, policy);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      if (v === null) return 'null';
      return stringifyNested(info.allowed ? v : scrubValueCompiled(v, policy));
    default:
      return undefined; // undefined, functions and symbols are not written
  }
}

/** Whether the JSON `valueJson` just wrote for `value` is the same whatever the state. */
function reusable(value: unknown, info: KeyInfo): boolean {
  if (info.sensitive && !info.allowed) return false;
  const type = typeof value;
  if (type === 'string') return info.allowed || lastTextWasClean();
  return type === 'number' || type === 'boolean';
}

/**
 * Writes scrubbed JSON members for one policy. `bitOf` lets the caller learn which keys a
 * record set (the logger leaves out context fields the call site sets itself).
 */
export class JsonMemberWriter {
  private readonly keys = new Map<string, MemberKey>();
  /** Bits of the keys the last `members` call wrote. */
  mask = 0;
  private lastText: unknown = NOTHING;
  private lastTextMember = '';

  constructor(
    private readonly policy: CompiledScrubPolicy,
    private readonly bitOf: (key: string) => number = () => 0,
  ) {}

  /** `,"k1":v1,"k2":v2…` for the enumerable properties of `record`, scrubbed. */
  members(record: object): string {
    const proto: unknown = Object.getPrototypeOf(record);
    if (proto !== Object.prototype && proto !== null) return this.foreign(record);
    const fields = record as Record<string, unknown>;
    let out = '';
    let mask = 0;
    try {
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined) continue;
        const k = this.key(key);
        const member = value === k.last ? k.lastMember : this.write(k, key, value);
        if (member === '') continue;
        mask |= k.bit;
        out += member;
      }
    } catch {
      // A throwing getter: scrubValue turns the record into its `[unserializable: …]` note.
      return this.foreign(record);
    }
    this.mask = mask;
    return out;
  }

  /** `,"key":value` for one member, or '' when the value is not written. */
  member(key: string, value: unknown): string {
    const k = this.key(key);
    return value === k.last ? k.lastMember : this.write(k, key, value);
  }

  /** `,"<name>":<text scrubbed>` (a log message), remembering the last clean one. */
  textMember(name: string, text: string): string {
    if (text === this.lastText) return this.lastTextMember;
    const member = `,"${name}":${scrubTextToJson(text, this.policy)}`;
    if (lastTextWasClean()) {
      this.lastText = text;
      this.lastTextMember = member;
    }
    return member;
  }

  private write(k: MemberKey, key: string, value: unknown): string {
    const json = valueJson(value, k.info, this.policy);
    if (json === undefined) return '';
    if (k.json === undefined) return this.scrubbedKey(key) + json;
    const member = k.json + json;
    if (reusable(value, k.info)) {
      k.last = value;
      k.lastMember = member;
    }
    return member;
  }

  /** Arrays, class instances, Maps…: scrubbed by `scrubValue`, then written as they are. */
  private foreign(record: object): string {
    const scrubbed = scrubValueCompiled(record, this.policy);
    let out = '';
    let mask = 0;
    if (typeof scrubbed === 'object' && scrubbed !== null) {
      const fields = scrubbed as Record<string, unknown>;
      for (const key in fields) {
        const json = fields[key] === undefined ? undefined : stringifyNested(fields[key]);
        if (json === undefined) continue;
        mask |= this.bitOf(key);
        out += `,${jsonQuote(key)}:${json}`;
      }
    } else if (typeof scrubbed === 'string') {
      out = `,"fields":${jsonQuote(scrubbed)}`;
    }
    this.mask = mask;
    return out;
  }

  private key(key: string): MemberKey {
    const cached = this.keys.get(key);
    if (cached !== undefined) return cached;
    const info = keyInfo(this.policy, key);
    const k: MemberKey = { info, json: info.scrubKey ? undefined : `,${jsonQuote(key)}:`, bit: this.bitOf(key), last: NOTHING, lastMember: '' };
    if (this.keys.size < KEY_CACHE_LIMIT) this.keys.set(key, k);
    return k;
  }

  private scrubbedKey(key: string): string {
    return `,${jsonQuote(scrubTextCompiled(key, this.policy))}:`;
  }
}
