/**
 * The one place errors become HTTP responses, through the one catalogue (errors.ts). Domain
 * `ServiceError`s carry their code; the service's other coded errors (`StoreError`,
 * `SegmentError`, `BlobError`, `KeyManagerError`, telemetry-core's `TimelineError`) are answered
 * as the catalogue says (`answeredAs` for codes raised inside the service, with a fixed message);
 * schema validation failures become 400 `request.invalid` naming the field and the rule;
 * Fastify's own client errors keep their 4xx under a stable code; database and file-system
 * failures are classified by their SQLSTATE or errno code (never by message text): a value the
 * database cannot take (SQLSTATE class 22) is the client's 400, a database or disk that cannot
 * serve is a 503 `store.unavailable`. Retryable answers (429, 503) carry `Retry-After`, 401s
 * `WWW-Authenticate`. Anything else is a 500 whose details go to the log, never to the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TimelineError, type Logger } from '@stellaops/telemetry-core';
import { BlobError } from '../blob/blob-error.js';
import { answeredAs, httpStatus, isResponseCode, isRetryable, responseSpec, RETRY_AFTER_SECONDS, ServiceError, type ErrorBody, type ResponseCode } from '../errors.js';
import { KeyManagerError } from '../keys/key-manager.js';
import { SegmentError } from '../segments/segment-store.js';
import { storageFailure } from '../store/sql-errors.js';
import { StoreError } from '../store/store-error.js';
import { SAFE_JSON_KEYWORD, SAFE_RULES } from './safe-schema.js';

/** Fastify's client-error codes, as the catalogue names them (any other 4xx is `request.invalid`). */
const FASTIFY_CODES: Readonly<Record<string, ResponseCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.invalid',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid',
  FST_ERR_MAX_PARAM_LENGTH: 'request.uri_too_long',
};

/** Request parts as the service names them in `field` (`query.limit`, `params.id`, `body.x`). */
const CONTEXT_NAMES: Record<string, string> = { querystring: 'query' };

/** Control characters and lone surrogates of a field name, as `\uXXXX`. */
function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pairHigh = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    if (pairHigh) {
      out += text.slice(i, i + 2);
      i++;
    } else if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += text[i];
  }
  return out;
}

function validationField(error: FastifyError): string {
  const first = error.validation?.[0];
  const raw = error.validationContext ?? 'request';
  const context = CONTEXT_NAMES[raw] ?? raw;
  if (!first) return context;
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
  const missing = (first.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const extra = missing.missingProperty ?? missing.additionalProperty;
  return printable(`${context}${path}${extra ? `.${extra}` : ''}`);
}

function validationRule(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return 'is invalid';
  const format = (first.params as { format?: unknown } | undefined)?.format;
  if (first.keyword === 'format' && typeof format === 'string' && SAFE_RULES[format]) return SAFE_RULES[format];
  if (first.keyword === SAFE_JSON_KEYWORD && first.message) return first.message;
  return first.message ?? 'is invalid';
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** Logged as an error (the client sees only the fixed body). */
  internal: boolean;
  /** Logged as a warning: the client's fault, but something validation should have caught. */
  warn?: boolean;
}

/** One of the service's coded errors other than `ServiceError` (each carries a catalogue code). */
function domainError(error: unknown): StoreError | SegmentError | BlobError | KeyManagerError | TimelineError | undefined {
  if (error instanceof StoreError || error instanceof SegmentError || error instanceof BlobError || error instanceof KeyManagerError || error instanceof TimelineError) return error;
  return undefined;
}

/** An answer under `code` with the catalogue's fixed message (or `message` where the code has none). */
function answer(code: ResponseCode, message?: string): MappedError {
  const status = httpStatus(code);
  return { status, body: { error_code: code, message: responseSpec(code).message ?? message ?? code }, internal: status >= 500 };
}

export function toErrorResponse(error: unknown): MappedError {
  if (error instanceof ServiceError) {
    const body: ErrorBody = { error_code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...error.extra };
    // A request refused because the service is closing is expected, not a failure to log.
    return { status: error.status, body, internal: error.status >= 500 && error.code !== 'service.shutting_down' };
  }
  const domain = domainError(error);
  // A code raised inside the service is answered as the catalogue says, unless that is a bare
  // 500 and the cause chain shows a database or disk that cannot serve (then 503, below). A code
  // that is a response code itself (store.unavailable, bus.unavailable, timeline.*) keeps its own
  // words only where the catalogue has no fixed message for it.
  if (domain && (answeredAs(domain.code) !== 'internal' || !storageFailure(error))) {
    return answer(answeredAs(domain.code), isResponseCode(domain.code) ? domain.message : undefined);
  }
  const fe = error as FastifyError;
  if (fe?.validation) {
    const field = validationField(fe);
    return { status: 400, body: { error_code: 'request.invalid', message: `${field} ${validationRule(fe)}`, field }, internal: false };
  }
  if (fe?.code === 'FST_ERR_BAD_URL') {
    const body: ErrorBody = { error_code: 'request.invalid', message: 'params: the request path is not valid percent-encoded UTF-8', field: 'params' };
    return { status: 400, body, internal: false };
  }
  const storage = storageFailure(error);
  if (storage?.kind === 'data') {
    const body: ErrorBody = {
      error_code: 'request.invalid',
      message: `the database cannot take a value of this request (SQLSTATE ${storage.code}): text with NUL characters, a number or date out of range`,
    };
    return { status: 400, body, internal: false, warn: true };
  }
  if (storage?.kind === 'unavailable') return answer('store.unavailable');
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = FASTIFY_CODES[fe.code] ?? 'request.invalid';
    return answer(code, String(fe.message).slice(0, 300));
  }
  return answer('internal');
}

export function errorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, internal, warn } = toErrorResponse(error);
    const where = { err: error, error_code: body.error_code, route: request.routeOptions.url, method: request.method };
    if (internal) logger.error(where, 'request failed');
    else if (warn) logger.warn(where, 'request refused by the database; its schema should have refused it');
    // 401s say how to authenticate (RFC 6750); retryable answers (429, 503) say when to come back.
    if (status === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${body.error_code}"`);
    if (isRetryable(body.error_code) && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (body.error_code === 'service.shutting_down') reply.header('connection', 'close');
    void reply.code(status).send(body);
  };
}
