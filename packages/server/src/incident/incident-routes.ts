/**
 * INC-1 over HTTP. `GET /telemetry/incidents/mode` answers in the document shape
 * telemetry-core's HTTP poller reads (`{modes: [{tenant, service, state, expires_at}]}`), plus
 * the tenant's recent incidents; `POST` switches a scope on or off (audited).
 */
import { Type } from 'typebox';
import type { ServiceConfig } from '../config.js';
import { described } from '../http/openapi.js';
import { SafeId, SafeString } from '../http/safe-schema.js';
import { parseIsoDuration, parseShortDuration } from '../obs/time-window.js';
import { ServiceError } from '../errors.js';
import type { ServiceApp } from '../service-feature.js';
import type { IncidentController } from './incident-controller.js';

const CaptureRefSchema = Type.Union([
  Type.Object({ file: Type.String(), window: Type.Object({ from: Type.String(), to: Type.String() }), manifest_sha256: Type.String(), items: Type.Integer() }),
  Type.Null(),
]);
const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);
const IncidentSchema = Type.Object({
  incident_id: Type.String(),
  tenant: Type.String(),
  service: Nullable(Type.String()),
  reason: Type.String(),
  trigger: Type.String(),
  started_at: Type.String(),
  expires_at: Type.String(),
  started_by: Type.String(),
  ended_at: Nullable(Type.String()),
  end_reason: Nullable(Type.String()),
  ended_by: Nullable(Type.String()),
  start_capture: CaptureRefSchema,
  stop_capture: CaptureRefSchema,
});
const ModeSchema = Type.Object({
  tenant: Nullable(Type.String()),
  service: Nullable(Type.String()),
  state: Type.Union([Type.Literal('on'), Type.Literal('off')]),
  expires_at: Nullable(Type.String()),
});
const StatusResponse = Type.Object({ tenant: Type.String(), modes: Type.Array(ModeSchema), incidents: Type.Array(IncidentSchema) });
const ToggleBody = Type.Object(
  {
    tenant: Type.Optional(SafeId({ maxLength: 64 })),
    service: Type.Optional(SafeId({ minLength: 1, maxLength: 200 })),
    state: Type.Union([Type.Literal('on'), Type.Literal('off')]),
    ttl: Type.Optional(SafeId({ maxLength: 20, description: 'how long until automatic revert: 4h, 90m, 2d or an ISO-8601 duration (PT4H); default 4h' })),
    reason: Type.Optional(SafeString({ maxLength: 500 })),
    trigger: Type.Optional(Type.Union([Type.Literal('operator'), Type.Literal('slo_burn'), Type.Literal('orchestrator')])),
  },
  { additionalProperties: false },
);
const ToggleResponse = Type.Object({ state: Type.Union([Type.Literal('on'), Type.Literal('off')]), extended: Type.Boolean(), incident: IncidentSchema, modes: Type.Array(ModeSchema) });

const DEFAULT_TTL = '4h';

export function incidentRoutes(app: ServiceApp, deps: { config: ServiceConfig; controller: IncidentController }): void {
  const { config, controller } = deps;
  app.get(
    '/telemetry/incidents/mode',
    {
      schema: {
        operationId: 'getIncidentMode',
        summary: "The tenant's incident modes and recent incidents",
        tags: ['incident'],
        response: { 200: described("The tenant's modes (the shape telemetry-core's poller reads) and its recent incidents", StatusResponse) },
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      return { tenant, modes: await controller.modes(tenant), incidents: await controller.history(tenant) };
    },
  );

  app.post(
    '/telemetry/incidents/mode',
    {
      schema: {
        operationId: 'setIncidentMode',
        summary: 'Switch incident mode on (100% sampling, debug breadcrumbs, extended retention, captures, webhook) or off',
        tags: ['incident'],
        body: ToggleBody,
        response: { 200: described('The incident switched on (or extended) or off, and the modes now in force', ToggleResponse) },
        'x-error-codes': ['incident.tenant_mismatch', 'incident.ttl_invalid', 'incident.cooldown', 'incident.not_active'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      const body = request.body;
      if (body.tenant !== undefined && body.tenant !== auth.tenant) {
        throw new ServiceError('incident.tenant_mismatch', `body.tenant names another tenant than the request's ("${auth.tenant}")`, { field: 'body.tenant', extra: { tenant: auth.tenant } });
      }
      const service = body.service ?? null;
      if (body.state === 'off') {
        const incident = await controller.off({ tenant: auth.tenant, service, actor: auth.principal.subject });
        return { state: 'off' as const, extended: false, incident, modes: await controller.modes(auth.tenant) };
      }
      const ttlText = body.ttl ?? DEFAULT_TTL;
      const ttlMs = parseShortDuration(ttlText) ?? parseIsoDuration(ttlText);
      if (ttlMs === undefined || ttlMs > config.incidentMaxTtlHours * 3_600_000) {
        throw new ServiceError('incident.ttl_invalid', `ttl must be a duration like 4h, 90m or PT4H, at most ${config.incidentMaxTtlHours}h`, {
          field: 'body.ttl',
          extra: { allowed: { max_hours: config.incidentMaxTtlHours } },
        });
      }
      const { incident, extended } = await controller.on({
        tenant: auth.tenant,
        service,
        ttlMs,
        reason: body.reason ?? 'no reason given',
        actor: auth.principal.subject,
        trigger: body.trigger ?? 'operator',
      });
      return { state: 'on' as const, extended, incident, modes: await controller.modes(auth.tenant) };
    },
  );
}
