import { createHash } from 'node:crypto';
import { canonicalJson } from '@stellaops/telemetry-core';

/** `sha256:<hex>` of bytes as received. */
export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `sha256:<hex>` of a value's canonical JSON (sorted keys), for derived records. */
export function canonicalDigest(value: unknown): string {
  return sha256(canonicalJson(value));
}
