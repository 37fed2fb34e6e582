import { ForensicsError } from '../errors.js';

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes standard or URL-safe base64 (DSSE allows either), padded or not. Node's decoder
 * silently skips garbage and ignores the unused low bits of the last character, so the input is
 * checked to be the one canonical encoding of its bytes: otherwise several spellings would
 * decode to the same signature, and a flipped character in a stored signature could go unseen.
 */
export function decodeBase64(text: string, what = 'value'): Buffer {
  if (typeof text === 'string') {
    // The common case, checked without a scan: standard padded base64 is canonical exactly when
    // re-encoding what it decodes to gives it back (a stray character, bits or padding would not).
    const bytes = Buffer.from(text, 'base64');
    if (bytes.toString('base64') === text) return bytes;
  }
  if (typeof text !== 'string' || (!STANDARD.test(text) && !URL_SAFE.test(text))) {
    throw new ForensicsError('invalid_argument', `${what} is not valid base64`);
  }
  const unpadded = text.replace(/=+$/, '');
  const padding = text.length - unpadded.length;
  const bytes = Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const canonical = bytes.toString('base64');
  const canonicalUnpadded = canonical.replace(/=+$/, '');
  if (canonicalUnpadded !== unpadded.replace(/-/g, '+').replace(/_/g, '/') || (padding > 0 && padding !== canonical.length - canonicalUnpadded.length)) {
    throw new ForensicsError('invalid_argument', `${what} is not valid base64`);
  }
  return bytes;
}

/** Standard, padded base64 — what DSSE producers and `cosign` emit. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
