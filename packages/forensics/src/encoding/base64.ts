import { ForensicsError } from '../errors.js';

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes standard or URL-safe base64 (DSSE allows either), padded or not. Node's decoder
 * silently skips garbage, so the alphabet is checked first: a signature with a stray character
 * must be rejected, not quietly shortened.
 */
export function decodeBase64(text: string, what = 'value'): Buffer {
  if (typeof text !== 'string' || (!STANDARD.test(text) && !URL_SAFE.test(text)) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new ForensicsError('invalid_argument', `${what} is not valid base64`);
  }
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Standard, padded base64 — what DSSE producers and `cosign` emit. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
