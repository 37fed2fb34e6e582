/**
 * What a request may carry, at the schema level. PostgreSQL refuses NUL in `text` and lone
 * UTF-16 surrogates (or `\u0000`) in `jsonb`, and a number that does not fit fails the query —
 * as a 500 unless the request is refused first. So every string of a query, path or body
 * schema is one of:
 *
 * - `SafeId(...)` — an identifier or short value (ids, names, services, windows): no control
 *   characters (U+0000–U+001F, U+007F) and no lone surrogates;
 * - `SafeString(...)` — free text (search strings, reasons): no NUL and no lone surrogates;
 * - a string with a whitelisting `pattern`, a `format` such as `uuid` or `date-time`, or a
 *   literal.
 *
 * Free-form JSON (timeline `details`, in-toto statements, DSSE envelopes) is a
 * `SafeJsonObject(...)`: every key and string inside follows the `SafeString` rule, numbers are
 * finite, and it nests at most `MAX_JSON_DEPTH` levels. Integers are `BoundedInteger(...)`:
 * both bounds are required, because a query value such as `1e309` coerces to `Infinity`.
 *
 * The rules are ajv formats and one keyword, registered by `safeSchemaPlugin`; the error
 * handler turns their failures into 400 `request.invalid` naming the field and the rule.
 */
import type { FastifyServerOptions } from 'fastify';
import { Type, type TObjectOptions, type TSchemaOptions } from 'typebox';

export const SAFE_TEXT_FORMAT = 'safe-text';
export const SAFE_ID_FORMAT = 'safe-id';
export const SAFE_JSON_KEYWORD = 'x-safe-json';
/** Deepest nesting a free-form JSON value may have (objects and arrays). */
export const MAX_JSON_DEPTH = 32;
/** PostgreSQL `integer`: the largest value an integer parameter may have. */
export const INT32_MAX = 2_147_483_647;

/** What each rule says in a 400 (after the field name). */
export const SAFE_RULES: Readonly<Record<string, string>> = {
  [SAFE_TEXT_FORMAT]: 'must be text without NUL characters, lone UTF-16 surrogates or invalid UTF-8',
  [SAFE_ID_FORMAT]: 'must be text without control characters (U+0000-U+001F, U+007F), lone UTF-16 surrogates or invalid UTF-8',
};

/** True when `value` holds no NUL and no lone surrogate. */
export function isSafeText(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < value.length) {
        const next = value.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      }
      return false;
    }
  }
  return true;
}

/** True when `value` holds no control character (C0, DEL) and no lone surrogate. */
export function isSafeId(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return isSafeText(value);
}

export interface JsonProblem {
  /** JSON Pointer (RFC 6901) from the checked value to the offending member. */
  pointer: string;
  rule: string;
}

const pointerToken = (key: string | number): string => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The first member of a JSON value that PostgreSQL `jsonb` (or a canonical encoder) would
 * refuse, or undefined. Iterative, so a hostile nesting depth cannot overflow the stack.
 */
export function findUnsafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: { value: unknown; pointer: string; depth: number }[] = [{ value, pointer: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (typeof v === 'string') {
      if (!isSafeText(v)) return { pointer: item.pointer, rule: SAFE_RULES[SAFE_TEXT_FORMAT]! };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { pointer: item.pointer, rule: 'must be a finite number' };
    } else if (v !== null && typeof v === 'object') {
      if (item.depth >= maxDepth) return { pointer: item.pointer, rule: `must not nest deeper than ${maxDepth} levels` };
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], pointer: `${item.pointer}/${i}`, depth: item.depth + 1 });
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, member] = entries[i]!;
          const pointer = `${item.pointer}/${pointerToken(key)}`;
          if (!isSafeText(key)) return { pointer, rule: `keys ${SAFE_RULES[SAFE_TEXT_FORMAT]!}` };
          stack.push({ value: member, pointer, depth: item.depth + 1 });
        }
      }
    }
  }
  return undefined;
}

type StringOptions = Omit<TSchemaOptions, 'format' | 'pattern'> & { minLength?: number; maxLength?: number };

/** Free text: anything but NUL, lone surrogates and invalid UTF-8. */
export const SafeString = (options: StringOptions = {}) => Type.String({ ...options, format: SAFE_TEXT_FORMAT });

/** An identifier or short value: no control characters, lone surrogates or invalid UTF-8. */
export const SafeId = (options: StringOptions = {}) => Type.String({ ...options, format: SAFE_ID_FORMAT });

/** A free-form JSON object whose keys and strings are safe text, numbers finite, depth bounded. */
export const SafeJsonObject = (options: TObjectOptions = {}) => Type.Record(Type.String(), Type.Unknown(), { ...options, [SAFE_JSON_KEYWORD]: true });

/** An integer with both bounds (at most `INT32_MAX`), so no coerced `Infinity` gets through. */
export const BoundedInteger = (options: TSchemaOptions & { minimum: number; maximum: number }) => {
  if (!(Number.isSafeInteger(options.minimum) && Number.isSafeInteger(options.maximum) && options.maximum <= INT32_MAX)) {
    throw new RangeError(`BoundedInteger needs integer bounds up to ${INT32_MAX}`);
  }
  return Type.Integer(options);
};

/** An ajv plugin as Fastify's `ajv.plugins` takes it (typed from Fastify, whose ajv this is). */
type AjvPlugin = Extract<NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number], (...args: never[]) => unknown>;

/** Registers the formats and the keyword with the ajv instance that validates requests. */
export const safeSchemaPlugin: AjvPlugin = (ajv) => {
  ajv.addFormat(SAFE_TEXT_FORMAT, { type: 'string', validate: isSafeText });
  ajv.addFormat(SAFE_ID_FORMAT, { type: 'string', validate: isSafeId });
  const validate = Object.assign(
    (_schema: unknown, data: unknown, _parent?: unknown, ctx?: { instancePath?: string }): boolean => {
      const problem = findUnsafeJson(data);
      if (!problem) return true;
      validate.errors = [{ keyword: SAFE_JSON_KEYWORD, instancePath: `${ctx?.instancePath ?? ''}${problem.pointer}`, message: problem.rule, params: { rule: problem.rule } }];
      return false;
    },
    { errors: undefined as { keyword: string; instancePath: string; message: string; params: Record<string, unknown> }[] | undefined },
  );
  ajv.addKeyword({ keyword: SAFE_JSON_KEYWORD, schemaType: 'boolean', errors: true, validate });
  return ajv;
};
