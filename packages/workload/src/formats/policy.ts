/**
 * The policy set format: ordered rules, first match wins. A rule matches a finding on
 * severity, fixability and its VEX status; its effect and reason go into the decision log.
 */
import { WorkloadError } from './errors.js';
import type { Severity } from './osv.js';
import type { VexStatus } from './openvex.js';

export type PolicyEffect = 'allow' | 'warn' | 'deny';

export interface PolicyRule {
  id: string;
  description: string;
  when: { severity?: Severity[]; fixable?: boolean; vex_status?: (VexStatus | 'none')[] };
  effect: PolicyEffect;
  reason: string;
}

export interface PolicySet {
  id: string;
  version: number;
  description: string;
  rules: PolicyRule[];
  default: { effect: PolicyEffect; reason: string };
}

/** A finding as the policy engine evaluates it. */
export interface PolicyFinding {
  advisory_id: string;
  purl: string;
  severity: Severity;
  fixable: boolean;
  vex_status: VexStatus | 'none';
}

export function validatePolicySet(doc: unknown): PolicySet {
  const fail = (field: string, message: string): never => {
    throw new WorkloadError('policy.invalid', `${field}: ${message}`, { field });
  };
  const p = doc as PolicySet;
  if (!p || typeof p.id !== 'string' || !Number.isInteger(p.version)) fail('policy', 'needs id and integer version');
  if (!Array.isArray(p.rules)) fail('rules', 'must be an array');
  p.rules.forEach((r, i) => {
    if (!/^R-[A-Z0-9-]+$/.test(r.id)) fail(`rules[${i}].id`, 'must look like R-CRIT-FIXABLE');
    if (!['allow', 'warn', 'deny'].includes(r.effect)) fail(`rules[${i}].effect`, 'must be allow, warn or deny');
  });
  return p;
}

/** `baseline@7` — the form decision logs and spans carry. */
export function policyVersion(p: PolicySet): string {
  return `${p.id}@${p.version}`;
}

/** First matching rule, or the default. */
export function evaluateFinding(policy: PolicySet, f: PolicyFinding): { rule_id: string; effect: PolicyEffect; reason: string } {
  for (const r of policy.rules) {
    if (r.when.severity && !r.when.severity.includes(f.severity)) continue;
    if (r.when.fixable !== undefined && r.when.fixable !== f.fixable) continue;
    if (r.when.vex_status && !r.when.vex_status.includes(f.vex_status)) continue;
    return { rule_id: r.id, effect: r.effect, reason: r.reason };
  }
  return { rule_id: 'default', effect: policy.default.effect, reason: policy.default.reason };
}
