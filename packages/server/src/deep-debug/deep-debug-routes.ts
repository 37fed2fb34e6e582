/**
 * Deep debug over HTTP (CORE-2, AUTH-4). `GET /telemetry/deep-debug` answers the tenant's grant
 * in force and its recent ones, in the shape telemetry-core's `HttpDeepDebugSource` reads;
 * `POST` switches it on for a TTL (at most telemetry-core's `MAX_DEEP_DEBUG_TTL_MS`) with a
 * reason, `DELETE /telemetry/deep-debug/{tenant}` switches it off. Both are audited.
 */
import { MAX_DEEP_DEBUG_TTL_MS } from '@stellaops/telemetry-core';
import { Type } from 'typebox';
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import { SafeId, SafeString } from '../http/safe-schema.js';
import { parseIsoDuration, parseShortDuration } from '../obs/time-window.js';
import type { ServiceApp } from '../service-feature.js';
import type { DeepDebugController } from './deep-debug-controller.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const grantProperties = {
  grant_id: Type.String(),
  tenant: Type.String(),
  actor: Type.String({ description: 'who switched it on' }),
  reason: Type.String(),
  enabled_at: Type.String(),
  expires_at: Type.String(),
};
const GrantSchema = Type.Object(grantProperties);
const RecordSchema = Type.Object({
  ...grantProperties,
  ended_at: Nullable(Type.String()),
  end_reason: Type.Union([Type.Literal('off'), Type.Literal('ttl'), Type.Literal('replaced'), Type.Null()]),
  ended_by: Nullable(Type.String()),
  off_reason: Nullable(Type.String()),
});
const StatusResponse = Type.Object({
  tenant: Type.String(),
  state: Type.Union([Type.Literal('on'), Type.Literal('off')]),
  grants: Type.Array(GrantSchema, { description: 'the grant in force (none or one)' }),
  recent: Type.Array(RecordSchema, { description: 'the latest ended grants, newest first' }),
});
const OnBody = Type.Object(
  {
    tenant: Type.Optional(SafeId({ maxLength: 64, description: "the request's tenant (default); another is refused" })),
    ttl: Type.Optional(SafeId({ maxLength: 20, description: 'how long until it ends by itself: 30m, 2h, 1800s or an ISO-8601 duration (PT30M); at most 24h' })),
    reason: Type.Optional(SafeString({ maxLength: 500, description: 'why (a ticket, an incident); recorded in the audit trail' })),
  },
  { additionalProperties: false },
);
const OnResponse = Type.Object({
  state: Type.Literal('on'),
  grant: RecordSchema,
  replaced: Type.Union([RecordSchema, Type.Null()], { description: 'the grant this one replaced, if one was in force' }),
  grants: Type.Array(GrantSchema),
});
const OffParams = Type.Object({ tenant: SafeId({ maxLength: 64 }) });
const OffQuery = Type.Object({ reason: Type.Optional(SafeString({ maxLength: 500, description: 'why it ends now; recorded in the audit trail' })) }, { additionalProperties: false });
const OffResponse = Type.Object({ state: Type.Literal('off'), grant: RecordSchema, grants: Type.Array(GrantSchema) });

const MAX_TTL_SECONDS = MAX_DEEP_DEBUG_TTL_MS / 1000;

/** The TTL of a request in ms, or `deepdebug.ttl_invalid` saying what is accepted. */
export function parseDeepDebugTtl(text: string | undefined): number {
  const ms = text === undefined ? undefined : (parseShortDuration(text) ?? parseIsoDuration(text));
  if (ms === undefined || ms > MAX_DEEP_DEBUG_TTL_MS) {
    throw new ServiceError(
      'deepdebug.ttl_invalid',
      text === undefined ? 'ttl is required: how long deep debug lasts, e.g. 30m (at most 24h)' : `ttl "${text}" must be a duration like 30m, 2h, 1800s or PT30M, at most 24h`,
      { field: 'body.ttl', extra: { allowed: { max_seconds: MAX_TTL_SECONDS, forms: ['30m', '2h', '1800s', 'PT30M'] } } },
    );
  }
  return ms;
}

function mismatch(field: string, named: string, tenant: string): ServiceError {
  return new ServiceError('deepdebug.tenant_mismatch', `${field} names tenant "${named}", but the request is for tenant "${tenant}"; name it with X-Stella-Tenant`, {
    field,
    extra: { tenant },
  });
}

export function deepDebugRoutes(app: ServiceApp, deps: { controller: DeepDebugController }): void {
  const { controller } = deps;

  app.get(
    '/telemetry/deep-debug',
    {
      schema: {
        operationId: 'getDeepDebug',
        summary: "The tenant's deep-debug grant in force (who, why, until when) and its recent grants",
        tags: ['deep-debug'],
        response: { 200: described("The tenant's grant in force (the shape telemetry-core's poller reads) and its recent grants", StatusResponse) },
      },
    },
    async (request) => controller.status(request.auth!.tenant),
  );

  app.post(
    '/telemetry/deep-debug',
    {
      schema: {
        operationId: 'enableDeepDebug',
        summary: "Relax e-mail and path redaction for the tenant's telemetry until the TTL (secrets stay redacted); replaces a grant in force",
        tags: ['deep-debug'],
        body: OnBody,
        response: { 200: described('The grant now in force (audited, broadcast to every process)', OnResponse) },
        'x-error-codes': ['deepdebug.ttl_invalid', 'deepdebug.reason_required', 'deepdebug.tenant_mismatch'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      const body = request.body;
      if (body.tenant !== undefined && body.tenant !== auth.tenant) throw mismatch('body.tenant', body.tenant, auth.tenant);
      const ttlMs = parseDeepDebugTtl(body.ttl);
      if (body.reason === undefined || body.reason.trim() === '') {
        throw new ServiceError('deepdebug.reason_required', 'reason is required: say why redaction is relaxed (a ticket, an incident)', { field: 'body.reason' });
      }
      const { grant, replaced } = await controller.on({ tenant: auth.tenant, ttlMs, reason: body.reason, actor: auth.principal.subject });
      return { state: 'on' as const, grant, replaced, grants: (await controller.status(auth.tenant, 0)).grants };
    },
  );

  app.delete(
    '/telemetry/deep-debug/:tenant',
    {
      schema: {
        operationId: 'disableDeepDebug',
        summary: "End the tenant's deep-debug grant now: redaction is strict again in every process",
        tags: ['deep-debug'],
        params: OffParams,
        querystring: OffQuery,
        response: { 200: described('The grant ended (audited, broadcast to every process)', OffResponse) },
        'x-error-codes': ['deepdebug.tenant_mismatch', 'deepdebug.not_active'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      if (request.params.tenant !== auth.tenant) throw mismatch('params.tenant', request.params.tenant, auth.tenant);
      const grant = await controller.off({ tenant: auth.tenant, actor: auth.principal.subject, reason: request.query.reason });
      return { state: 'off' as const, grant, grants: (await controller.status(auth.tenant, 0)).grants };
    },
  );
}
