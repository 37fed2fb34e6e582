/**
 * The API's query-string parser. Like Fastify's default (`a=1&a=2` → `['1', '2']`, `+` is a
 * space), except for values that are not valid percent-encoded UTF-8 (`%ED%A0%80` is an encoded
 * lone surrogate, `%FF` is no UTF-8 at all): the default keeps such a value undecoded, so
 * `q=%FF` would search for the text "%FF". Here each byte that is not part of a well-formed
 * UTF-8 sequence becomes the lone surrogate U+DC80–U+DCFF ("surrogateescape", PEP 383), which
 * every string schema refuses (see safe-schema.ts) — a 400 that names the parameter.
 */

/** Decodes UTF-8 bytes; a byte outside a well-formed sequence becomes U+DC00 + byte. */
function decodeUtf8Escaped(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let length = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      length = 2;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      length = 3;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
      if (b0 === 0xed) upper = 0x9f; // U+D800–U+DFFF are not characters
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      length = 4;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      if (b0 === 0xf4) upper = 0x8f;
    }
    let ok = length > 0;
    for (let k = 1; ok && k < length; k++) {
      const b = bytes[i + k];
      const [lo, hi] = k === 1 ? [lower, upper] : [0x80, 0xbf];
      if (b === undefined || b < lo || b > hi) ok = false;
      else cp = (cp << 6) | (b & 0x3f);
    }
    if (ok) {
      out += String.fromCodePoint(cp);
      i += length;
    } else {
      out += String.fromCharCode(0xdc00 + b0);
      i++;
    }
  }
  return out;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Percent-decoding that never throws and never leaves a value half-decoded. */
export function decodeQueryComponent(text: string): string {
  const plain = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!plain.includes('%')) return plain;
  try {
    return decodeURIComponent(plain);
  } catch {
    // Invalid UTF-8 or a stray "%": decode byte by byte, a stray "%" stays a literal "%".
  }
  const bytes: number[] = [];
  for (let i = 0; i < plain.length; ) {
    const hex = plain.slice(i + 1, i + 3);
    if (plain[i] === '%' && HEX.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    const cp = plain.codePointAt(i)!;
    bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    i += cp > 0xffff ? 2 : 1;
  }
  return decodeUtf8Escaped(bytes);
}

/** `a=1&b=x%20y&a=2` → `{ a: ['1', '2'], b: 'x y' }` (a prototype-less object). */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const result = Object.create(null) as Record<string, string | string[]>;
  if (query.length === 0) return result;
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeQueryComponent(pair.slice(eq + 1));
    const existing = result[key];
    if (existing === undefined) result[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else result[key] = [existing, value];
  }
  return result;
}
