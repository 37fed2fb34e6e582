/**
 * Every error this library throws is a ForensicsError with a stable `code`; callers (the server's
 * error handler, the CLI) map codes to HTTP statuses and exit codes without parsing messages.
 * Verification never throws for a bad bundle: it returns failures (see bundle/verify-failure.ts).
 */
export type ForensicsErrorCode =
  | 'invalid_argument'
  | 'invalid_path'
  | 'duplicate_path'
  | 'size_mismatch'
  | 'size_required'
  | 'invalid_key'
  | 'unsupported_algorithm'
  | 'invalid_envelope'
  | 'invalid_manifest'
  | 'invalid_keyring'
  | 'rotation_log_invalid'
  | 'key_not_active'
  | 'invalid_timestamp'
  | 'timestamp_request_failed'
  | 'io_error';

export class ForensicsError extends Error {
  readonly code: ForensicsErrorCode;

  constructor(code: ForensicsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForensicsError';
    this.code = code;
  }
}
