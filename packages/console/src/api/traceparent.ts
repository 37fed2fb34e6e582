/**
 * W3C Trace Context for the Console's API calls (CON-4): every call starts a new trace with a
 * sampled `traceparent`, so the service keeps the call's server span under that trace id and a
 * support engineer can find it from the id the user reads in the browser's console or the
 * Console's footer.
 */

/** `length` random bytes. */
export type RandomBytes = (length: number) => Uint8Array;

const cryptoRandom: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

export interface Traceparent {
  /** 32 lower-case hex characters, never all zero. */
  traceId: string;
  /** 16 lower-case hex characters, never all zero. */
  spanId: string;
  /** `00-<trace id>-<span id>-01`. */
  header: string;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** An id of `length` random bytes; all-zero ids are invalid in W3C Trace Context, so they are drawn again. */
function randomId(length: number, random: RandomBytes): string {
  for (let attempt = 0; attempt < 4; attempt++) {
    const id = hex(random(length));
    if (id.length === length * 2 && !/^0+$/.test(id)) return id;
  }
  throw new Error('the random source gave no usable id');
}

/** A new sampled `traceparent` (version 00) for one API call. */
export function newTraceparent(random: RandomBytes = cryptoRandom): Traceparent {
  const traceId = randomId(16, random);
  const spanId = randomId(8, random);
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a `traceparent` header (e.g. the one the service echoes), or undefined when it is not a valid one. */
export function traceIdOf(header: string | null | undefined): string | undefined {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return m[2];
}

/** The trace id in what a user typed: a trace id (any case, surrounding space) or a whole `traceparent`; undefined otherwise. */
export function traceIdInput(text: string): string | undefined {
  const value = text.trim().toLowerCase();
  if (/^[0-9a-f]{32}$/.test(value) && !/^0+$/.test(value)) return value;
  return traceIdOf(value);
}
