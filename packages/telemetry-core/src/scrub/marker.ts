import { createHmac } from 'node:crypto';
import type { RedactionClass } from './classes.js';
import type { CompiledScrubPolicy } from './policy.js';

/**
 * The replacement for a redacted value: `[REDACTED:<class>]`, or in keyed-hash mode
 * `[REDACTED:<class>:<first 12 hex of HMAC-SHA256(hashKey, value)>]` — equal values give equal
 * markers (correlatable), and without the key the marker discloses nothing.
 */
export function marker(cls: RedactionClass, value: string, policy: CompiledScrubPolicy): string {
  if (policy.hashKey === undefined) return `[REDACTED:${cls}]`;
  const mac = createHmac('sha256', policy.hashKey).update(value, 'utf8').digest('hex').slice(0, 12);
  return `[REDACTED:${cls}:${mac}]`;
}
