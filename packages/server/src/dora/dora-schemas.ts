/** TypeBox schemas of the DORA routes (`/dora/*`). */
import { Type } from 'typebox';
import { SafeId } from '../http/safe-schema.js';
import { DEPLOYMENT_OUTCOMES, ENVIRONMENT_MAX, ID_MAX, INCIDENT_SEVERITIES } from './dora-records.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Level = Type.Union([Type.Literal('elite'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]);
const NullableLevel = Type.Union([Level, Type.Null()]);
const Time = (description: string) => Type.String({ format: 'date-time', description });

export const Outcome = Type.Union(
  DEPLOYMENT_OUTCOMES.map((o) => Type.Literal(o)),
  { description: 'success, or a change failure: rollback, hotfix, failed' },
);
export const Severity = Type.Union(INCIDENT_SEVERITIES.map((s) => Type.Literal(s)));

export const DeploymentBody = Type.Object(
  {
    deployment_id: SafeId({ minLength: 1, maxLength: ID_MAX, description: 'the deployment id: recording it again with the same content is a no-op, with other content a 409' }),
    service: SafeId({ minLength: 1, maxLength: ID_MAX }),
    environment: SafeId({ minLength: 1, maxLength: ENVIRONMENT_MAX }),
    pipeline: Type.Optional(SafeId({ maxLength: ID_MAX, description: 'the pipeline that deployed; reports group by its normalised name (empty: unknown)' })),
    commit_time: Time("the change's commit time (RFC 3339 with an offset)"),
    deploy_time: Time('when it was deployed; not before commit_time'),
    outcome: Outcome,
  },
  { additionalProperties: false },
);

export const Deployment = Type.Object({
  deployment_id: Type.String(),
  service: Type.String(),
  environment: Type.String(),
  pipeline: Type.String(),
  commit_time: Type.String(),
  deploy_time: Type.String(),
  outcome: Type.String(),
});

export const DeploymentResult = Type.Object({ created: Type.Boolean({ description: 'false when the same deployment was recorded before' }), deployment: Deployment });

export const IncidentParams = Type.Object({ incident_id: SafeId({ minLength: 1, maxLength: ID_MAX }) }, { additionalProperties: false });

export const IncidentBody = Type.Object(
  {
    environment: SafeId({ minLength: 1, maxLength: ENVIRONMENT_MAX }),
    service: Type.Optional(Type.Union([SafeId({ minLength: 1, maxLength: ID_MAX }), Type.Null()])),
    severity: Severity,
    started_at: Time('when the incident started (RFC 3339 with an offset)'),
    acknowledged_at: Type.Optional(Type.Union([Time('when it was acknowledged; not before started_at'), Type.Null()])),
    resolved_at: Type.Optional(Type.Union([Time('when it was resolved; not before started_at'), Type.Null()])),
  },
  { additionalProperties: false },
);

export const Incident = Type.Object({
  incident_id: Type.String(),
  environment: Type.String(),
  service: NullableString,
  severity: Type.String(),
  started_at: Type.String(),
  acknowledged_at: NullableString,
  resolved_at: NullableString,
});

export const IncidentResult = Type.Object({ created: Type.Boolean({ description: 'false when an incident of this id was updated' }), incident: Incident });

export const WindowQuery = Type.Object(
  {
    environment: Type.Optional(SafeId({ minLength: 1, maxLength: ENVIRONMENT_MAX, description: 'one environment (default: all)' })),
    from: Type.Optional(Time('window start (inclusive); default 30 days before `to`')),
    to: Type.Optional(Time('window end (exclusive); default now')),
  },
  { additionalProperties: false },
);

export const ReportQuery = Type.Object(
  {
    environment: Type.Optional(SafeId({ minLength: 1, maxLength: ENVIRONMENT_MAX, description: 'one environment (default: all)' })),
    // Required (a report is of a window the caller names): answered 400 dora.window_invalid when missing.
    from: Type.Optional(Time('window start (inclusive); required')),
    to: Type.Optional(Time('window end (exclusive); required')),
  },
  { additionalProperties: false },
);

export const Metrics = Type.Object({
  window_days: Type.Number(),
  deployments_total: Type.Integer(),
  deployment_failures_total: Type.Integer(),
  deployment_frequency_per_day: Type.Number(),
  lead_time_hours: NullableNumber,
  change_failure_rate_percent: NullableNumber,
  time_to_recovery_hours: NullableNumber,
  time_to_acknowledge_hours: NullableNumber,
  incidents_total: Type.Integer(),
  incidents_acknowledged: Type.Integer(),
  incidents_resolved: Type.Integer(),
});

export const Classification = Type.Object({
  deployment_frequency: Level,
  lead_time: NullableLevel,
  change_failure_rate: NullableLevel,
  time_to_recovery: NullableLevel,
  overall: Level,
});

const Slo = Type.Object({
  targets: Type.Object({ lead_time_hours: Type.Number(), deployment_frequency_per_day: Type.Number(), change_failure_rate_percent: Type.Number(), time_to_recovery_hours: Type.Number() }),
  breaches: Type.Object({
    deployment_frequency: Type.Boolean(),
    change_failure_rate: Type.Union([Type.Boolean(), Type.Null()]),
    lead_time: Type.Union([Type.Boolean(), Type.Null()]),
    time_to_recovery: Type.Union([Type.Boolean(), Type.Null()]),
  }),
  deployments_over_lead_time_target: Type.Integer(),
  incidents_over_recovery_target: Type.Integer(),
});

export const MetricsResponse = Type.Object({
  tenant: Type.String(),
  environment: NullableString,
  from: Type.String(),
  to: Type.String(),
  ...Metrics.properties,
  classification: Classification,
  slo: Slo,
});

export const ReportResponse = Type.Object({
  tenant: Type.String(),
  environment: NullableString,
  from: Type.String(),
  to: Type.String(),
  metrics: Metrics,
  classification: Classification,
  mtta_hours: NullableNumber,
  mttr_hours: NullableNumber,
  pipelines: Type.Array(
    Type.Object({ pipeline: Type.String(), deployments: Type.Integer(), failures: Type.Integer(), change_failure_rate_percent: NullableNumber, median_lead_time_hours: NullableNumber }),
  ),
  severities: Type.Array(
    Type.Object({ severity: Type.String(), incidents: Type.Integer(), acknowledged: Type.Integer(), resolved: Type.Integer(), mtta_hours: NullableNumber, mttr_hours: NullableNumber }),
  ),
  cohorts: Type.Array(Type.Object({ date: Type.String(), deployments: Type.Integer(), failures: Type.Integer(), incidents_opened: Type.Integer(), incidents_resolved: Type.Integer() })),
});
