/**
 * Error codes of the telemetry read, capture and incident APIs, with their HTTP status — the
 * same `{error_code, message, field?, allowed?}` body as the service catalogue in errors.ts.
 * `withTelemetryErrors` registers routes in a scope whose error handler answers these and hands
 * everything else (auth, validation, store) to the service's one handler unchanged.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '@stellaops/telemetry-core';
import { errorHandler } from '../http/error-handler.js';
import type { ServiceApp } from '../service-feature.js';

export const TELEMETRY_API_ERRORS = {
  'obs.window_invalid': 400,
  'obs.window_too_wide': 400,
  'obs.limit_too_large': 400,
  'obs.trace_id_invalid': 400,
  'obs.trace_not_found': 404,
  'capture.window_invalid': 400,
  'capture.window_too_wide': 400,
  'capture.failed': 500,
  'incident.tenant_mismatch': 403,
  'incident.ttl_invalid': 400,
  'incident.cooldown': 409,
  'incident.not_active': 409,
} as const;

export type TelemetryApiErrorCode = keyof typeof TELEMETRY_API_ERRORS;

export class TelemetryApiError extends Error {
  override readonly name = 'TelemetryApiError';
  constructor(
    readonly code: TelemetryApiErrorCode,
    message: string,
    readonly options: { field?: string; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get status(): number {
    return TELEMETRY_API_ERRORS[this.code];
  }
}

/** Registers `register`'s routes in a scope that maps `TelemetryApiError`s and delegates the rest. */
export async function withTelemetryErrors(app: ServiceApp, logger: Logger, register: (scope: ServiceApp) => void | Promise<void>): Promise<void> {
  const serviceHandler = errorHandler(logger);
  await app.register(async (scope) => {
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>() as unknown as ServiceApp;
    typed.setErrorHandler((error, request, reply) => {
      if (error instanceof TelemetryApiError) {
        if (error.status >= 500) logger.error({ err: error, error_code: error.code, route: request.routeOptions.url }, 'request failed');
        void reply.code(error.status).send({
          error_code: error.code,
          message: error.message,
          ...(error.options.field ? { field: error.options.field } : {}),
          ...error.options.extra,
        });
        return;
      }
      serviceHandler(error, request, reply);
    });
    await register(typed);
  });
}
