/**
 * The service's error catalogue: every code a client can see, with its HTTP status, in one
 * place. Domain code throws `ServiceError`; the one error handler (http/error-handler.ts, set
 * in `app.ts`) maps it, Fastify's own errors and database or file-system failures to
 * `{error_code, message, field?}` — routes never build error responses.
 *
 * - `request.invalid`: a schema rule (http/safe-schema.ts) or a value the database refuses
 *   (SQLSTATE class 22); `field` names the request part (`query.limit`, `params.id`,
 *   `body.events[0].kind`) whenever it is known.
 * - `store.unavailable`: the database cannot be reached or is shutting down, out of resources
 *   (SQLSTATE 08, 53, 57P01-57P03, 58) or the disk is full, read-only or failing (ENOSPC, EDQUOT,
 *   EROFS, EIO, EMFILE, ENFILE); always with `Retry-After`, as is every 503.
 */
export const ERROR_STATUS = {
  'request.invalid': 400,
  'request.body_too_large': 413,
  'request.uri_too_long': 414,
  'request.unsupported_media_type': 415,
  'route.not_found': 404,
  'tenant.required': 400,
  'tenant.ambiguous': 400,
  'tenant.invalid': 400,
  'auth.token_missing': 401,
  'auth.token_invalid': 401,
  'auth.token_expired': 401,
  'auth.scope_denied': 403,
  'auth.tenant_denied': 403,
  'auth.authority_unavailable': 503,
  'timeline.window_too_wide': 400,
  'timeline.limit_too_large': 400,
  'timeline.cursor_invalid': 400,
  'timeline.event_invalid': 400,
  'timeline.kind_invalid': 400,
  'timeline.tenant_invalid': 400,
  'timeline.details_too_large': 400,
  'timeline.digest_mismatch': 400,
  'timeline.tenant_mismatch': 403,
  'timeline.not_found': 404,
  'store.unavailable': 503,
  'bus.unavailable': 503,
  'service.shutting_down': 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ServiceErrorOptions {
  /** The request field at fault (`query.limit`, `body.events[3].kind`). */
  field?: string;
  /** Extra members of the response body (e.g. `required_scope`, `tenant`, `allowed`). */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly field: string | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.field = options.field;
    this.extra = options.extra;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** The body every error response has; 403s add `required_scope` and `tenant`. */
export interface ErrorBody {
  error_code: ErrorCode;
  message: string;
  field?: string;
  [extra: string]: unknown;
}
