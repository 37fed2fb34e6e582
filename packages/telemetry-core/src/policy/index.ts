/**
 * `@stellaops/telemetry-core/policy`: the telemetry policy file format, parsed and validated.
 * Imports node built-ins and `yaml` only — nothing of the SDK, the logger or the scrubber — so
 * a reader such as the collector-config renderer can load the same file cheaply.
 */
export {
  BUILT_IN_ALLOW_KEYS,
  BUILT_IN_MAX_STRING_LENGTH,
  BUILT_IN_REDACT_KEYS,
  DEFAULT_TELEMETRY_POLICY_FILE,
  TELEMETRY_POLICY_ENV,
  TELEMETRY_POLICY_VERSION,
  TelemetryPolicyError,
  egressEntryProblem,
  emptyTelemetryPolicy,
  loadTelemetryPolicy,
  parseTelemetryPolicy,
  validateTelemetryPolicy,
} from './telemetry-policy.js';
export type { TelemetryPolicy, TelemetryPolicyErrorCode } from './telemetry-policy.js';
