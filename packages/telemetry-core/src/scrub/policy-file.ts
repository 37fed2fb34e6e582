/**
 * Scrub policy files: `{ version: 1, allowKeys: [...], redactKeys: [...], repoRoot?, maxStringLength? }`
 * as YAML or JSON (chosen by extension; anything else is read as YAML, a superset of JSON).
 * The format is the telemetry policy's (`loadTelemetryPolicy`, which adds `egress`), so one
 * file serves both; this reader returns its scrub part and reports problems as ScrubError.
 * The keyed-hash key is deliberately not a file field: it is a secret and comes from the caller.
 */
import { fileURLToPath } from 'node:url';
import { loadTelemetryPolicy, TelemetryPolicyError, type TelemetryPolicy, type TelemetryPolicyErrorCode } from '../policy/telemetry-policy.js';
import { ScrubError, type ScrubErrorCode } from './errors.js';
import type { ScrubPolicy } from './policy.js';

/** The policy shipped with the library (its allowlist equals `DEFAULT_ALLOW_KEYS`). */
export const DEFAULT_SCRUB_POLICY_FILE = fileURLToPath(new URL('../../policy/scrub-policy.default.yaml', import.meta.url));

const CODES: Record<TelemetryPolicyErrorCode, ScrubErrorCode> = {
  TELEMETRY_POLICY_NOT_FOUND: 'SCRUB_POLICY_NOT_FOUND',
  TELEMETRY_POLICY_UNREADABLE: 'SCRUB_POLICY_UNREADABLE',
  TELEMETRY_POLICY_PARSE_FAILED: 'SCRUB_POLICY_PARSE_FAILED',
  TELEMETRY_POLICY_INVALID: 'SCRUB_POLICY_INVALID',
};

/** The scrub fields of a telemetry policy, only those it sets (empty lists are left out). */
export function scrubPolicyOf(policy: TelemetryPolicy): ScrubPolicy {
  const out: ScrubPolicy = {};
  if (policy.allowKeys.length > 0) out.allowKeys = [...policy.allowKeys];
  if (policy.redactKeys.length > 0) out.redactKeys = [...policy.redactKeys];
  if (policy.repoRoot !== undefined) out.repoRoot = policy.repoRoot;
  if (policy.maxStringLength !== undefined) out.maxStringLength = policy.maxStringLength;
  return out;
}

/** Reads, parses and validates a policy file. Throws ScrubError with a SCRUB_POLICY_* code. */
export function loadScrubPolicy(file: string): ScrubPolicy {
  try {
    return scrubPolicyOf(loadTelemetryPolicy(file));
  } catch (err) {
    if (!(err instanceof TelemetryPolicyError)) throw err;
    throw new ScrubError(CODES[err.code], `scrub policy ${file}: ${err.reason}`, { cause: err });
  }
}
