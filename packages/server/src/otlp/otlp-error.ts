/**
 * The receivers' refusals. Their codes are the catalogue's (errors.ts) codes that have a gRPC
 * status — `otlp.*`, and the `auth.*` / `tenant.*` codes the API answers too — so the HTTP
 * status, the gRPC code and whether to retry all come from there. The OTLP specification decides
 * retryability from the status (429/502/503/504 and UNAVAILABLE are retried, everything else is
 * not), so each code is chosen for what the client should do next. Messages start with the code,
 * so exporter logs carry it; a retryable refusal always says when to come back (`Retry-After`).
 */
import { ERRORS, RETRY_AFTER_SECONDS, ServiceError, type OtlpErrorCode, type ResponseCode } from '../errors.js';

export type { OtlpErrorCode } from '../errors.js';

export class OtlpError extends ServiceError {
  override readonly name: string = 'OtlpError';
  declare readonly code: OtlpErrorCode;
  /** Seconds the client should wait (429/503 `Retry-After`); set for every retryable code. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: OtlpErrorCode, message: string, retryAfterSeconds?: number, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
    this.retryAfterSeconds = retryAfterSeconds ?? (this.retryable ? RETRY_AFTER_SECONDS : undefined);
  }

  get httpStatus(): number {
    return this.status;
  }

  get grpcCode(): number {
    return ERRORS[this.code].grpc;
  }
}

function isOtlpCode(code: ResponseCode): code is OtlpErrorCode {
  return 'grpc' in ERRORS[code];
}

/**
 * What an OTLP client is answered for `error`: an `OtlpError` as it is, a `ServiceError` whose
 * code the receivers answer (the token checks) under its own code, anything else `otlp.internal`.
 */
export function toOtlpError(error: unknown): OtlpError {
  if (error instanceof OtlpError) return error;
  if (error instanceof ServiceError && isOtlpCode(error.code)) return new OtlpError(error.code, error.message, undefined, { cause: error });
  return new OtlpError('otlp.internal', 'internal error; the service log has the details', undefined, { cause: error });
}
