/**
 * Error codes of the evidence locker, attestations and chain of custody, with their HTTP
 * status. They ride on the service's `ServiceError`, so the one error handler maps them like
 * every other code; this catalogue belongs beside `ERROR_STATUS` in errors.ts and lives here
 * only until it is merged there.
 */
import { ServiceError, type ErrorCode, type ServiceErrorOptions } from '../errors.js';

export const FORENSICS_ERROR_STATUS = {
  'evidence.not_found': 404,
  'evidence.inputs_missing': 422,
  'evidence.exists': 409,
  'evidence.on_hold': 409,
  'evidence.retained': 409,
  'evidence.archive_invalid': 400,
  'evidence.artifact_conflict': 409,
  'evidence.id_invalid': 400,
  'evidence.storage_unavailable': 503,
  'evidence.keys_unavailable': 503,
  'evidence.timestamp_failed': 502,
  'evidence.platform_scope_required': 403,
  'attestation.not_found': 404,
  'attestation.invalid': 400,
  'attestation.subject_mismatch': 400,
  'custody.not_found': 404,
} as const;

export type ForensicsErrorCode = keyof typeof FORENSICS_ERROR_STATUS;

export class ForensicsServiceError extends ServiceError {
  constructor(code: ForensicsErrorCode, message: string, options: ServiceErrorOptions = {}) {
    super(code as unknown as ErrorCode, message, options);
  }

  override get status(): number {
    return FORENSICS_ERROR_STATUS[this.code as unknown as ForensicsErrorCode] ?? super.status;
  }
}
