/**
 * Typed errors of the workload services. Each has a stable `code` and the HTTP status it maps
 * to in the one error handler (service-host.ts); messages name the offending field.
 */
export const WORKLOAD_ERRORS = {
  'sbom.invalid': 422,
  'sbom.not_found': 404,
  'advisory.malformed': 422,
  'advisory.not_found': 404,
  'vex.invalid': 422,
  'policy.invalid': 422,
  'policy.not_found': 404,
  'export.not_found': 404,
  'job.not_found': 404,
  'job.invalid': 400,
  'request.unauthenticated': 401,
  'request.tenant_required': 400,
  'request.invalid': 400,
  'upstream.failed': 502,
} as const;

export type WorkloadErrorCode = keyof typeof WORKLOAD_ERRORS;

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
  readonly code: WorkloadErrorCode;
  readonly status: number;
  /** The request field at fault, e.g. `affected[0].ranges[0].events[1].fixed`. */
  readonly field: string | undefined;

  constructor(code: WorkloadErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.status = WORKLOAD_ERRORS[code];
    this.field = options.field;
  }
}
