/**
 * Why a profile or a backend config was refused. Every problem validation finds is a
 * `ProfileIssue` with a stable `code`, the config path at fault and an exact message; rendering
 * throws one `ProfileError` carrying all of them.
 */

/** Problems validation reports, each with its own code. */
export const PROFILE_ISSUE_CODES = [
  /** The YAML does not parse, or a section has the wrong shape. */
  'collector.invalid',
  /** The profile names a distribution or version this package has no component list for. */
  'collector.unknown_distribution',
  /** A component type the pinned distribution does not ship. */
  'collector.unknown_component',
  /** A pipeline (or `service.extensions`) names a component no section declares. */
  'collector.undeclared_component',
  /** A declared component no pipeline (or `service.extensions`) uses. */
  'collector.unused_component',
  /** A pipeline without receivers or without exporters, or named for no signal. */
  'collector.pipeline_incomplete',
  /** A component in a pipeline of a signal it does not handle. */
  'collector.signal_unsupported',
  /** A receiver listening beyond loopback without TLS. */
  'collector.receiver_plaintext',
  /** An exporter sending beyond loopback without TLS. */
  'collector.exporter_plaintext',
  /** An exporter endpoint that is not loopback and not on the exporter allowlist. */
  'collector.exporter_not_allowlisted',
  /** Sealed mode: an exporter endpoint that is neither loopback nor a file. */
  'collector.sealed_egress',
  /** An exporter whose endpoint cannot be read. */
  'collector.endpoint_invalid',
  /** Warning: a pipeline with no redaction processor (the telemetry policy is then enforced in the services only). */
  'collector.redaction_missing',
  /** Backends: a Prometheus remote-write URL that is not loopback and not on the remote-write allowlist. */
  'backend.remote_write_not_allowlisted',
  /** Backends, sealed mode: a remote-write URL or an object-store endpoint that is not loopback. */
  'backend.sealed_egress',
  /** Backends: a remote-write URL or object-store endpoint that cannot be read, or sent in plaintext beyond loopback. */
  'backend.endpoint_invalid',
] as const;

export type ProfileIssueCode = (typeof PROFILE_ISSUE_CODES)[number];

export type ProfileIssueSeverity = 'error' | 'warning';

export interface ProfileIssue {
  code: ProfileIssueCode;
  severity: ProfileIssueSeverity;
  /** Where in the config, dotted: `exporters.otlp/tempo.endpoint`, `service.pipelines.traces`. */
  path: string;
  /** The problem and its fix, in one sentence. */
  message: string;
}

/** Why rendering refused. */
export const PROFILE_ERROR_CODES = [
  /** A profile name that is not `default`, `forensic` or `airgap`. */
  'profile.unknown',
  /** An option with a value that cannot be used; `path` names it. */
  'profile.invalid_option',
  /** The telemetry policy file could not be read or is invalid; `cause` is telemetry-core's error. */
  'profile.policy_unusable',
  /** The rendered config failed validation; `issues` lists every error. */
  'profile.invalid',
] as const;

export type ProfileErrorCode = (typeof PROFILE_ERROR_CODES)[number];

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly code: ProfileErrorCode;
  /** The option at fault, for `profile.invalid_option`. */
  readonly path: string | undefined;
  /** Every error validation found, for `profile.invalid`. */
  readonly issues: readonly ProfileIssue[];

  constructor(code: ProfileErrorCode, message: string, details: { path?: string; issues?: readonly ProfileIssue[]; cause?: unknown } = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.path = details.path;
    this.issues = details.issues ?? [];
  }
}

/** `profile.invalid` with the issues' messages, one per line after a summary. */
export function invalidProfileError(what: string, issues: readonly ProfileIssue[]): ProfileError {
  const lines = issues.map((i) => `  ${i.code} at ${i.path}: ${i.message}`);
  return new ProfileError('profile.invalid', `${what} is invalid (${issues.length} error${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, { issues });
}
