/**
 * Decision logs (CORE-9): every authZ decision and policy evaluation goes through this one
 * helper, so records share fixed fields, carry no PII and reach the log, the active span and
 * any registered listener (for example the evidence locker, which keeps decision records).
 */
import { trace } from '@opentelemetry/api';
import { currentContext } from '../context/context.js';
import { getDefaultLogger, type Logger } from '../log/logger.js';
import { scrubText } from '../scrub/index.js';

export type DecisionKind = 'authz' | 'policy';
export type DecisionEffect = 'allow' | 'deny' | 'warn' | 'error';

export interface DecisionInput {
  kind: DecisionKind;
  effect: DecisionEffect;
  /** Why, in words a person can act on; scrubbed. Never include another tenant's data or PII. */
  reason: string;
  /** The scope required or granted (authz), e.g. `stella:evidence:read#tenant/acme`. */
  scope?: string;
  /** Policy set version (policy decisions). */
  policy_version?: string;
  /** Rule ids that produced the effect. */
  rule_ids?: string[];
  /** What was decided on: a route, a finding id, a purl. */
  resource?: string;
  /** The action attempted (`read`, `create`, `evaluate`, ...). */
  action?: string;
  /** Tenant the decision concerns. Default: the active context's tenant. */
  tenant_id?: string;
  /** Extra, non-identifying attributes (scrubbed like any log field). */
  details?: Record<string, unknown>;
}

export interface DecisionRecord extends Required<Pick<DecisionInput, 'kind' | 'effect' | 'reason'>> {
  ts: string;
  scope?: string;
  policy_version?: string;
  rule_ids?: string[];
  resource?: string;
  action?: string;
  tenant_id?: string;
  actor?: string;
  trace_id?: string;
  span_id?: string;
  details?: Record<string, unknown>;
}

export type DecisionListener = (record: DecisionRecord) => void;
const listeners = new Set<DecisionListener>();

/** Subscribes to every decision of this process; returns an unsubscribe function. */
export function onDecision(listener: DecisionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const KINDS = new Set<DecisionKind>(['authz', 'policy']);
const EFFECTS = new Set<DecisionEffect>(['allow', 'deny', 'warn', 'error']);

export function logDecision(input: DecisionInput, logger: Logger = getDefaultLogger()): DecisionRecord {
  if (!KINDS.has(input.kind)) throw new TypeError(`logDecision: kind must be authz or policy, got "${String(input.kind)}"`);
  if (!EFFECTS.has(input.effect)) throw new TypeError(`logDecision: unknown effect "${String(input.effect)}"`);
  const ctx = currentContext();
  const record: DecisionRecord = {
    ts: new Date().toISOString(),
    kind: input.kind,
    effect: input.effect,
    reason: scrubText(input.reason),
  };
  if (input.scope) record.scope = input.scope;
  if (input.policy_version) record.policy_version = input.policy_version;
  if (input.rule_ids?.length) record.rule_ids = [...input.rule_ids];
  if (input.resource) record.resource = input.resource;
  if (input.action) record.action = input.action;
  const tenant = input.tenant_id ?? ctx.tenant_id;
  if (tenant) record.tenant_id = tenant;
  if (ctx.actor) record.actor = ctx.actor;
  if (ctx.trace_id) record.trace_id = ctx.trace_id;
  if (ctx.span_id) record.span_id = ctx.span_id;
  if (input.details) record.details = input.details;

  const level = input.effect === 'allow' ? 'info' : 'warn';
  logger[level](
    {
      decision_kind: record.kind,
      decision_effect: record.effect,
      decision_reason: record.reason,
      policy_version: record.policy_version,
      rule_ids: record.rule_ids,
      scope: record.scope,
      resource: record.resource,
      action: record.action,
      tenant_id: record.tenant_id,
      details: record.details,
    },
    `decision.${record.kind}`,
  );

  const span = trace.getActiveSpan();
  if (span?.isRecording()) {
    const prefix = record.kind === 'authz' ? 'stella.authz' : 'stella.policy';
    span.setAttribute(`${prefix}.effect`, record.effect);
    span.setAttribute(`${prefix}.reason`, record.reason);
    if (record.scope) span.setAttribute(`${prefix}.scope`, record.scope);
    if (record.policy_version) span.setAttribute('stella.policy.version', record.policy_version);
    if (record.rule_ids) span.setAttribute('stella.policy.rule_ids', record.rule_ids);
  }
  for (const listener of listeners) {
    try {
      listener(record);
    } catch {
      // A listener's failure never fails the decision being recorded.
    }
  }
  return record;
}
