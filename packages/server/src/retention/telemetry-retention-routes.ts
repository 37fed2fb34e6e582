/**
 * STO-4 over HTTP: `GET /telemetry/retention` (the tenant's tiers per signal, with the policy's
 * bounds) and `PUT /telemetry/retention` (change them; a value outside the policy is a 400
 * `retention.out_of_bounds` naming the bound; every change is an `audit.telemetry.retention_changed`
 * event written with it).
 */
import { Type } from 'typebox';
import type { AuditTrail } from '../timeline/audit-trail.js';
import { described } from '../http/openapi.js';
import { BoundedInteger } from '../http/safe-schema.js';
import type { ServiceApp } from '../service-feature.js';
import { AUDIT_FLOOR_DAYS, RETENTION_BOUNDS, SIGNALS, type RetentionSignal } from './policy.js';
import type { EffectiveTiers, TelemetryRetentionSettings, TiersChange } from '../segments/telemetry-retention-settings.js';

const Days = (description: string) => Type.Integer({ description });
const Tiers = Type.Object({
  hot_days: Days('index rows kept (searchable by /obs)'),
  warm_days: Days('raw segments kept (capture, reindex)'),
  cold_days: Days('0, or the age up to which raw segments are kept past warm'),
  source: Type.Union([Type.Literal('tenant'), Type.Literal('default')]),
});
const Range = Type.Object({ min_days: Type.Integer(), max_days: Type.Integer() });

const RetentionView = Type.Object({
  tenant_id: Type.String(),
  signals: Type.Object({ traces: Tiers, logs: Tiers, metrics: Tiers }),
  allowed: Type.Object({ hot: Range, warm: Range, cold: Type.Object({ min_days: Type.Integer(), max_days: Type.Integer(), note: Type.String() }) }),
  policy: Type.Object({
    timeline: Range,
    evidence: Range,
    audit_min_days: Type.Integer(),
  }),
  audit_event_id: Type.Optional(Type.String()),
});

// Wider than the policy on purpose: values outside its bounds are refused by the handler with
// 400 retention.out_of_bounds naming the bound.
const TierChange = Type.Object(
  {
    hot_days: Type.Optional(BoundedInteger({ minimum: 0, maximum: 36500 })),
    warm_days: Type.Optional(BoundedInteger({ minimum: 0, maximum: 36500 })),
    cold_days: Type.Optional(BoundedInteger({ minimum: 0, maximum: 36500 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RetentionChange = Type.Object(
  {
    signals: Type.Object(
      { traces: Type.Optional(TierChange), logs: Type.Optional(TierChange), metrics: Type.Optional(TierChange) },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  { additionalProperties: false },
);

export interface TelemetryRetentionRouteDeps {
  settings: TelemetryRetentionSettings;
  audit: AuditTrail;
}

function view(tenant: string, signals: Record<RetentionSignal, EffectiveTiers>) {
  return {
    tenant_id: tenant,
    signals,
    allowed: {
      hot: { min_days: RETENTION_BOUNDS.hot.min, max_days: RETENTION_BOUNDS.hot.max },
      warm: { min_days: RETENTION_BOUNDS.warm.min, max_days: RETENTION_BOUNDS.warm.max },
      cold: { min_days: RETENTION_BOUNDS.cold.min, max_days: RETENTION_BOUNDS.cold.max, note: '0 (no cold tier) or more than warm_days' },
    },
    policy: {
      timeline: { min_days: RETENTION_BOUNDS.timeline.min, max_days: RETENTION_BOUNDS.timeline.max },
      evidence: { min_days: RETENTION_BOUNDS.evidence.min, max_days: RETENTION_BOUNDS.evidence.max },
      audit_min_days: AUDIT_FLOOR_DAYS,
    },
  };
}

export function telemetryRetentionRoutes(app: ServiceApp, deps: TelemetryRetentionRouteDeps): void {
  const { settings, audit } = deps;

  app.get(
    '/telemetry/retention',
    {
      schema: {
        operationId: 'getTelemetryRetention',
        summary: "The tenant's telemetry retention tiers per signal (hot, warm, cold) and the policy's bounds",
        tags: ['telemetry'],
        response: { 200: described("The tenant's tiers per signal and the policy's bounds", RetentionView) },
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      return view(tenant, await settings.read(tenant));
    },
  );

  app.put(
    '/telemetry/retention',
    {
      schema: {
        summary: `Change the tenant's telemetry retention tiers (hot ${RETENTION_BOUNDS.hot.min}-${RETENTION_BOUNDS.hot.max} d, warm ${RETENTION_BOUNDS.warm.min}-${RETENTION_BOUNDS.warm.max} d, cold 0 or past warm; audited)`,
        operationId: 'setTelemetryRetention',
        tags: ['telemetry'],
        body: RetentionChange,
        response: { 200: described("The tenant's tiers as changed, with the audit event's id", RetentionView) },
        'x-error-codes': ['retention.out_of_bounds'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      const change = request.body.signals as TiersChange;
      const strip = (s: Record<RetentionSignal, EffectiveTiers>) => Object.fromEntries(SIGNALS.map((k) => [k, { hot_days: s[k].hot_days, warm_days: s[k].warm_days, cold_days: s[k].cold_days }]));
      const { signals, event } = await audit.record(auth.tenant, async (tx, record) => {
        const { previous, next } = await settings.update(tx, auth.tenant, change, auth.principal.subject);
        const event = await record({
          kind: 'audit.telemetry.retention_changed',
          resource_type: 'telemetry_retention',
          resource_id: auth.tenant,
          details: { previous: strip(previous), retention: strip(next), change: request.body.signals, granted_by: auth.grantedBy },
        });
        return { signals: next, event };
      });
      return { ...view(auth.tenant, signals), audit_event_id: event.event_id };
    },
  );
}
