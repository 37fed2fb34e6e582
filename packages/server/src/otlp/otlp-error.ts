/**
 * The receiver's error catalogue: every refusal an OTLP client can see, with its HTTP status
 * and gRPC code. The OTLP specification decides retryability from these (429/502/503/504 and
 * UNAVAILABLE are retried, everything else is not), so each code is chosen for what the client
 * should do next. Messages start with the code, so exporter logs carry it.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export const OTLP_ERRORS = {
  'otlp.not_found': { http: 404, grpc: GrpcStatus.UNIMPLEMENTED },
  'otlp.method_not_allowed': { http: 405, grpc: GrpcStatus.UNIMPLEMENTED },
  'otlp.unsupported_media_type': { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.unsupported_encoding': { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.body_too_large': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  'otlp.decompressed_too_large': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  /** More items (spans, log records, data points) or attributes in one request than the per-request limits; split the batch. */
  'otlp.too_many_items': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  'otlp.malformed_gzip': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.malformed_protobuf': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.malformed_json': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.tenant_mismatch': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  'auth.token_missing': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  'auth.token_invalid': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  'auth.token_expired': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  'auth.scope_denied': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  'auth.tenant_denied': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  'tenant.required': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'tenant.ambiguous': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'tenant.invalid': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  'otlp.quota_exceeded': { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  'otlp.overloaded': { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  'otlp.unavailable': { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  'otlp.internal': { http: 500, grpc: GrpcStatus.INTERNAL },
} as const;

export type OtlpErrorCode = keyof typeof OTLP_ERRORS;

export class OtlpError extends Error {
  override readonly name = 'OtlpError';
  constructor(
    readonly code: OtlpErrorCode,
    message: string,
    /** Seconds the client should wait (429/503 `Retry-After`). */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }

  get httpStatus(): number {
    return OTLP_ERRORS[this.code].http;
  }

  get grpcCode(): number {
    return OTLP_ERRORS[this.code].grpc;
  }
}
