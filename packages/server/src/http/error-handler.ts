/**
 * The one place errors become HTTP responses. Domain `ServiceError`s carry their status;
 * schema validation failures become 400 `request.invalid` naming the field; Fastify's own
 * client errors keep their 4xx under a stable code; anything else is a 500 whose details go to
 * the log, never to the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TimelineError, type Logger } from '@stellaops/telemetry-core';
import { ERROR_STATUS, ServiceError, type ErrorBody, type ErrorCode } from '../errors.js';
import { StoreError } from '../store/store-error.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.invalid',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid',
  FST_ERR_MAX_PARAM_LENGTH: 'request.uri_too_long',
};

// Fastify's own messages may echo the whole URL or body; clients get a fixed sentence instead.
const FIXED_MESSAGES: Partial<Record<ErrorCode, string>> = {
  'request.uri_too_long': 'a path parameter is longer than the service accepts',
  'request.body_too_large': 'the request body is larger than this route accepts',
  'request.unsupported_media_type': 'send the body as application/json',
};

function validationField(error: FastifyError): string {
  const first = error.validation?.[0];
  const context = error.validationContext ?? 'request';
  if (!first) return context;
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
  const missing = (first.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const extra = missing.missingProperty ?? missing.additionalProperty;
  return `${context}${path}${extra ? `.${extra}` : ''}`;
}

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (error instanceof ServiceError) {
    const body: ErrorBody = { error_code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...error.extra };
    return { status: error.status, body, internal: error.status >= 500 };
  }
  if (error instanceof StoreError && error.code === 'store.unavailable') {
    return { status: 503, body: { error_code: 'store.unavailable', message: 'the database is unavailable; retry shortly' }, internal: true };
  }
  if (error instanceof TimelineError && (error.code === 'bus.unavailable' || error.code === 'bus.closed' || error.code === 'bus.publish_failed')) {
    return { status: 503, body: { error_code: 'bus.unavailable', message: 'the message bus is unavailable; retry shortly' }, internal: true };
  }
  const fe = error as FastifyError;
  if (fe?.validation) {
    const field = validationField(fe);
    const detail = fe.validation[0]?.message ?? 'is invalid';
    return { status: 400, body: { error_code: 'request.invalid', message: `${field} ${detail}`, field }, internal: false };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = FASTIFY_CODES[fe.code] ?? 'request.invalid';
    const message = FIXED_MESSAGES[code] ?? String(fe.message).slice(0, 300);
    return { status: ERROR_STATUS[code], body: { error_code: code, message }, internal: false };
  }
  return { status: 500, body: { error_code: 'internal', message: 'internal error; the request id in x-request-id locates it in the service log' }, internal: true };
}

export function errorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, internal } = toErrorResponse(error);
    if (internal) logger.error({ err: error, error_code: body.error_code, route: request.routeOptions.url, method: request.method }, 'request failed');
    // 401s say how to authenticate (RFC 6750).
    if (status === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${body.error_code}"`);
    if (body.error_code === 'service.shutting_down') reply.header('connection', 'close');
    void reply.code(status).send(body);
  };
}
