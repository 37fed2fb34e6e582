/** TypeBox schemas of `GET /obs/slo` and `POST /telemetry/alerts/alertmanager`. */
import { Type } from 'typebox';
import { BoundedInteger, SafeId, SafeString } from '../http/safe-schema.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const SloQuery = Type.Object(
  {
    slo: Type.Optional(SafeId({ maxLength: 63, description: 'only this SLO (its metadata.name)' })),
    at: Type.Optional(SafeId({ maxLength: 40, description: 'evaluate at this RFC 3339 instant instead of answering the latest evaluation' })),
  },
  { additionalProperties: false },
);

const BurnRatePair = Type.Object({
  severity: Type.Union([Type.Literal('page'), Type.Literal('ticket')]),
  long_window: Type.String(),
  short_window: Type.String(),
  burn_rate_threshold: Type.Number(),
  error_ratio_threshold: Type.Number(),
  long_burn_rate: NullableNumber,
  short_burn_rate: NullableNumber,
  firing: Type.Boolean(),
});

const SloStatus = Type.Object({
  name: Type.String(),
  display_name: NullableString,
  description: NullableString,
  service: Type.String(),
  objective: Type.Object({ target: Type.Number(), display_name: NullableString }),
  period: Type.String(),
  sli: Type.Object({ good: NullableString, bad: NullableString, total: Type.String(), value: NullableNumber }),
  error_ratios: Type.Record(Type.String(), NullableNumber),
  error_budget: Type.Object({ total: Type.Number(), consumed: NullableNumber, remaining: NullableNumber }),
  burn_rates: Type.Array(BurnRatePair),
  state: Type.Union([Type.Literal('ok'), Type.Literal('ticket'), Type.Literal('page'), Type.Literal('no_data')]),
});

export const BreachSchema = Type.Object({
  breach_id: Type.String(),
  fingerprint: Type.String(),
  tenant: Type.String(),
  slo: Type.String(),
  service: Type.String(),
  severity: Type.String(),
  long_window: Type.String(),
  short_window: Type.String(),
  source: Type.Union([Type.Literal('evaluator'), Type.Literal('alertmanager')]),
  burn_rate: Type.Number(),
  started_at: Type.String(),
  resolved_at: NullableString,
  incident: Type.String(),
  incident_id: NullableString,
});

export const SloResponse = Type.Object({
  tenant: Type.String(),
  source: Type.Union([Type.Literal('embedded'), Type.Literal('prometheus')]),
  evaluated_at: Type.String(),
  interval_seconds: Type.Number(),
  slos: Type.Array(SloStatus),
  breaches: Type.Array(BreachSchema, { description: "the tenant's latest page-level breaches, newest first" }),
  evaluation: Type.Object({ failures: Type.Integer(), last_failure_at: NullableString }, { description: 'evaluations that failed since the service started (logged)' }),
});

const Labels = Type.Record(Type.String(), SafeString({ maxLength: 4096 }));

/** Alertmanager's webhook payload (version 4); fields the receiver does not read are accepted and ignored. */
export const AlertmanagerPayload = Type.Object({
  version: Type.Optional(SafeId({ maxLength: 10 })),
  groupKey: Type.Optional(SafeString({ maxLength: 8192 })),
  truncatedAlerts: Type.Optional(BoundedInteger({ minimum: 0, maximum: 1_000_000 })),
  status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
  receiver: Type.Optional(SafeString({ maxLength: 1024 })),
  groupLabels: Type.Optional(Labels),
  commonLabels: Type.Optional(Labels),
  commonAnnotations: Type.Optional(Labels),
  externalURL: Type.Optional(SafeString({ maxLength: 4096 })),
  alerts: Type.Array(
    Type.Object({
      status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
      labels: Labels,
      annotations: Type.Optional(Labels),
      startsAt: Type.Optional(SafeId({ maxLength: 64 })),
      endsAt: Type.Optional(SafeId({ maxLength: 64 })),
      generatorURL: Type.Optional(SafeString({ maxLength: 8192 })),
      fingerprint: Type.Optional(SafeId({ maxLength: 64 })),
    }),
    { maxItems: 1000 },
  ),
});

export const AlertmanagerResponse = Type.Object({
  tenant: Type.String(),
  alerts: Type.Array(
    Type.Object({
      fingerprint: NullableString,
      alertname: NullableString,
      slo: NullableString,
      long_window: NullableString,
      status: Type.String(),
      outcome: Type.Union([Type.Literal('opened'), Type.Literal('already_open'), Type.Literal('resolved'), Type.Literal('not_open'), Type.Literal('ignored')]),
      reason: NullableString,
      breach: Type.Union([BreachSchema, Type.Null()]),
    }),
  ),
});
