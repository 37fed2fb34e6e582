/**
 * The policy and authz decisions recorded in a trace (CORE-9): telemetry-core's `logDecision`
 * writes a log record whose attributes carry `decision_kind`, `decision_effect`,
 * `decision_reason`, `policy_version`, `rule_ids`, `scope`, `resource` and `action`, and sets
 * `stella.policy.*` / `stella.authz.*` attributes on the active span. A span's attributes that
 * repeat a decision log of the same span are shown once, from the log (as `stella obs trace`
 * does). Denials come first: they are what turns a view red.
 */
import type { Attributes, LogRecord } from '../api/api-types.js';

/** What the decisions read of a span of `GET /obs/trace/:id`. */
export interface DecisionSpan {
  span_id: string;
  service: string;
  start_time_unix_nano: string;
  attributes: Attributes;
}

export interface Decision {
  /** A decision log record, or only the attributes of a span. */
  source: 'log' | 'span';
  time: string;
  /** `policy` or `authz` (or what the record calls itself). */
  kind: string;
  /** `allow`, `deny`, `warn` or `error` as recorded. */
  effect: string;
  reason: string | null;
  scope: string | null;
  policyVersion: string | null;
  ruleIds: string[];
  resource: string | null;
  action: string | null;
  service: string;
  spanId: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : typeof v === 'string' && v !== '' ? v.split(',') : []);

function nanosToIso(nanos: string): string {
  try {
    return new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

const EFFECT_ORDER: Readonly<Record<string, number>> = { deny: 0, error: 1, warn: 2, allow: 3 };
const effectRank = (effect: string): number => EFFECT_ORDER[effect.toLowerCase()] ?? 4;

export const isDenial = (d: Decision): boolean => d.effect.toLowerCase() === 'deny';

/** Every decision of a trace, oldest first. */
export function decisionsOf(spans: readonly DecisionSpan[], logs: readonly LogRecord[]): Decision[] {
  const out: Decision[] = [];
  for (const l of logs) {
    const a = l.attributes;
    const effect = text(a['decision_effect']);
    if (!effect) continue;
    const kind = text(a['decision_kind']) ?? (l.body.startsWith('decision.') ? l.body.slice('decision.'.length) : text(a['policy_version']) ? 'policy' : 'decision');
    out.push({
      source: 'log',
      time: l.time,
      kind,
      effect,
      reason: text(a['decision_reason']) ?? (l.body.startsWith('decision.') ? null : l.body),
      scope: text(a['scope']),
      policyVersion: text(a['policy_version']),
      ruleIds: list(a['rule_ids']),
      resource: text(a['resource']),
      action: text(a['action']),
      service: l.service,
      spanId: l.span_id,
    });
  }
  for (const s of spans) {
    for (const [kind, prefix] of [['authz', 'stella.authz'], ['policy', 'stella.policy']] as const) {
      const effect = text(s.attributes[`${prefix}.effect`]);
      if (!effect) continue;
      if (out.some((d) => d.source === 'log' && d.spanId === s.span_id && d.kind === kind && d.effect === effect)) continue;
      out.push({
        source: 'span',
        time: nanosToIso(s.start_time_unix_nano),
        kind,
        effect,
        reason: text(s.attributes[`${prefix}.reason`]),
        scope: text(s.attributes[`${prefix}.scope`]),
        policyVersion: kind === 'policy' ? text(s.attributes['stella.policy.version']) : null,
        ruleIds: kind === 'policy' ? list(s.attributes['stella.policy.rule_ids']) : [],
        resource: null,
        action: null,
        service: s.service,
        spanId: s.span_id,
      });
    }
  }
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/**
 * The decisions most likely behind a red view first: denials, then errors, warnings and
 * allows; within each, those recorded on `spanIds` (the red span and the spans that called it),
 * then the oldest.
 */
export function causeOrder(decisions: readonly Decision[], spanIds: ReadonlySet<string> = new Set()): Decision[] {
  const near = (d: Decision): number => (d.spanId !== null && spanIds.has(d.spanId) ? 0 : 1);
  return [...decisions].sort((a, b) => effectRank(a.effect) - effectRank(b.effect) || near(a) - near(b) || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}
