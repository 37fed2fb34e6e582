/**
 * What `/openapi.json` says about each route's answers, taken from the error catalogue
 * (errors.ts) so it cannot drift from what the error handler sends. A route declares its
 * `operationId`, its success responses (each with a description) and, in `x-error-codes`, the
 * codes its own handler and services answer. `documentErrors` (an `onRoute` hook set in app.ts)
 * adds the codes every route of its kind answers — malformed requests and internal errors on
 * every route; over-long path parameters where there are parameters; body size and media type
 * where there is a body; the token's answers on routes open to any token; the tenant, token,
 * store and shutdown answers on tenant routes; the token, platform-wide scope, store and
 * shutdown answers on operators' routes over every tenant — and turns the whole list into one error
 * response per status: `{error_code, message, field?, ...}` with `error_code` an enum of that
 * status's codes, their meanings in the description, `Retry-After` on retryable statuses (429,
 * 503) and `WWW-Authenticate` on 401. The complete list stays on the operation as
 * `x-error-codes`.
 */
import { STATUS_CODES } from 'node:http';
import type { RouteOptions } from 'fastify';
import { routeKey, type RouteAccess } from '../auth/scope-catalogue.js';
import { ERROR_CODES, httpStatus, isResponseCode, isRetryable, responseSpec, type ResponseCode } from '../errors.js';
import { ErrorResponse } from './error-schema.js';

declare module 'fastify' {
  interface FastifySchema {
    /** The catalogue codes this route answers besides those every route of its kind answers (see http/openapi.ts). */
    'x-error-codes'?: readonly ResponseCode[];
  }
}

/** Codes every route of a kind answers, whatever its handler does. */
export const COMMON_ERROR_CODES = {
  /** Any route: a path that is not percent-encoded UTF-8, a schema violation; an unexpected failure. */
  every: ['request.invalid', 'internal'],
  /** Routes with path parameters: one longer than the router takes. */
  params: ['request.uri_too_long'],
  /** Routes that take a body: too large, or of a media type the route does not parse. */
  body: ['request.body_too_large', 'request.unsupported_media_type'],
  /** Routes open to any valid token (auth/scope-catalogue.ts): the token. */
  authenticated: ['auth.token_missing', 'auth.token_invalid', 'auth.token_expired', 'auth.authority_unavailable'],
  /** Operators' routes over every tenant (auth/scope-catalogue.ts): the token, its platform-wide scope, the store, shutdown. */
  platform: ['auth.token_missing', 'auth.token_invalid', 'auth.token_expired', 'auth.scope_denied', 'auth.authority_unavailable', 'store.unavailable', 'service.shutting_down'],
  /** Tenant routes (auth/scope-catalogue.ts): tenant selection, the token, its scope, the store, shutdown. */
  tenant: [
    'tenant.required',
    'tenant.ambiguous',
    'tenant.invalid',
    'auth.token_missing',
    'auth.token_invalid',
    'auth.token_expired',
    'auth.scope_denied',
    'auth.tenant_denied',
    'auth.authority_unavailable',
    'store.unavailable',
    'service.shutting_down',
  ],
} as const satisfies Record<string, readonly ResponseCode[]>;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ORDER = new Map(ERROR_CODES.map((code, i) => [code, i]));

interface RouteShape {
  method: string;
  url: string;
  declared?: readonly ResponseCode[] | undefined;
}

/** Every code a route answers: its own and those of its kind, in catalogue order. */
export function routeErrorCodes(route: RouteShape, access: RouteAccess | undefined): ResponseCode[] {
  const codes = new Set<ResponseCode>([...(route.declared ?? []), ...COMMON_ERROR_CODES.every]);
  if (route.url.includes(':')) for (const c of COMMON_ERROR_CODES.params) codes.add(c);
  if (BODY_METHODS.has(route.method)) for (const c of COMMON_ERROR_CODES.body) codes.add(c);
  if (access?.kind === 'authenticated') for (const c of COMMON_ERROR_CODES.authenticated) codes.add(c);
  if (access?.kind === 'tenant') for (const c of COMMON_ERROR_CODES.tenant) codes.add(c);
  if (access?.kind === 'platform') for (const c of COMMON_ERROR_CODES.platform) codes.add(c);
  return [...codes].sort((a, b) => ORDER.get(a)! - ORDER.get(b)!);
}

const generated = new WeakSet<object>();

/** The error response of one status: the common body with `error_code` one of `codes`. */
export function errorResponse(status: number, codes: readonly ResponseCode[]): Record<string, unknown> {
  for (const code of codes) {
    if (httpStatus(code) !== status) throw new Error(`${code} is answered with ${httpStatus(code)}, not ${status}`);
  }
  const headers: Record<string, Record<string, unknown>> = {};
  if (codes.some(isRetryable)) headers['Retry-After'] = { type: 'integer', minimum: 0, description: 'seconds to wait before retrying' };
  if (status === 401) headers['WWW-Authenticate'] = { type: 'string', description: 'Bearer error="invalid_token", error_description="<error_code>" (RFC 6750)' };
  const schema = {
    ...ErrorResponse,
    description: [`${STATUS_CODES[status] ?? status}; \`error_code\` is one of:`, ...codes.map((c) => `- \`${c}\`: ${responseSpec(c).meaning}`)].join('\n'),
    ...(Object.keys(headers).length ? { headers } : {}),
    properties: { ...ErrorResponse.properties, error_code: { type: 'string', enum: [...codes] } },
  };
  generated.add(schema);
  return schema;
}

/** One error response per status for `codes`. */
export function errorResponses(codes: readonly ResponseCode[]): Record<string, Record<string, unknown>> {
  const byStatus = new Map<number, ResponseCode[]>();
  for (const code of codes) byStatus.set(httpStatus(code), [...(byStatus.get(httpStatus(code)) ?? []), code]);
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), errorResponse(status, list)]));
}

/**
 * The `onRoute` hook that documents every route's error responses from the catalogue (see the
 * file comment). A route may not declare an error status itself, except with a schema of its
 * own for a status none of its codes use (`/readyz`'s 503 readiness report).
 */
export function documentErrors(catalogue: Readonly<Record<string, RouteAccess>>) {
  return (route: RouteOptions): void => {
    const schema = route.schema ?? {};
    if (schema.hide) return;
    const method = [route.method].flat()[0]!.toUpperCase();
    const declared = schema['x-error-codes'];
    for (const code of declared ?? []) if (!isResponseCode(code)) throw new Error(`${method} ${route.url}: ${String(code)} is not a response code of the catalogue`);
    const codes = routeErrorCodes({ method, url: route.url, declared }, catalogue[routeKey(method === 'HEAD' ? 'GET' : method, route.url)]);
    const response: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
    for (const [status, errors] of Object.entries(errorResponses(codes))) {
      const own = response[status];
      if (own !== undefined && own !== ErrorResponse && !(typeof own === 'object' && own !== null && generated.has(own))) {
        throw new Error(`${method} ${route.url} declares its own ${status} response, but answers ${codes.filter((c) => String(httpStatus(c)) === status).join(', ')} with that status`);
      }
      response[status] = errors;
    }
    route.schema = { ...schema, response, 'x-error-codes': codes };
  };
}

/** A download: `mediaType` bytes (or one of several media types; OpenAPI `type: string, format: binary`) with the headers it carries. */
export function binaryResponse(mediaType: string | readonly string[], description: string, headers: Record<string, string> = {}): Record<string, unknown> {
  return {
    description,
    ...(Object.keys(headers).length ? { headers: Object.fromEntries(Object.entries(headers).map(([name, text]) => [name, { type: 'string', description: text }])) } : {}),
    content: Object.fromEntries([mediaType].flat().map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
  };
}

/** `schema` as a response with its description (what the route answers with it). */
export function described<T extends object>(description: string, schema: T): T & { description: string } {
  return { ...schema, description };
}
