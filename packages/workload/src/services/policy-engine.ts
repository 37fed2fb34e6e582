/**
 * policy-engine: evaluates reconciled findings against the policy set. Every finding's
 * decision goes through telemetry-core's `logDecision` (policy version, rule id, effect,
 * reason), and the `policy.evaluate` span carries the overall verdict.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { canonicalJson, currentContext, logDecision, startJourney, withSpan } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import { evaluateFinding, policyVersion, validatePolicySet, type PolicyEffect, type PolicySet } from '../formats/policy.js';
import { canonicalDigest, sha256 } from './digest.js';
import type { ReconciledFinding } from './excitator.js';
import { custodySubject } from './sbom-service.js';
import { WORKLOAD_VERSION, type WorkloadRuntime } from './service-host.js';

export interface Decision {
  advisory_id: string;
  purl: string;
  rule_id: string;
  effect: PolicyEffect;
  reason: string;
}

export function registerPolicyEngine(app: FastifyInstance, rt: WorkloadRuntime): void {
  let loaded: Promise<{ policy: PolicySet; digest: string; raw: string }> | undefined;
  const policySet = (): Promise<{ policy: PolicySet; digest: string; raw: string }> =>
    (loaded ??= readFile(join(rt.config.fixturesDir, 'policy', 'baseline.policy.json'), 'utf8').then((raw) => ({ policy: validatePolicySet(JSON.parse(raw) as unknown), digest: sha256(raw), raw })));

  app.get('/policy/sets/current', async () => {
    const { policy, digest } = await policySet();
    return { policy_version: policyVersion(policy), policy_digest: digest, policy };
  });

  app.post<{ Body: { sbom_id?: string; components_digest?: string; findings?: ReconciledFinding[] } }>('/policy/evaluate', async (request) => {
    const tenant = currentContext().tenant_id!;
    const { sbom_id, components_digest, findings } = request.body ?? {};
    if (typeof sbom_id !== 'string' || typeof components_digest !== 'string' || !Array.isArray(findings)) {
      throw new WorkloadError('request.invalid', 'body needs sbom_id, components_digest (the SBOM evaluated) and findings', { field: 'body' });
    }
    const journey = startJourney('policy_evaluate', { 'stella.tenant_id': tenant });
    try {
      const { policy, digest, raw } = await policySet();
      const version = policyVersion(policy);
      const evaluation = withSpan('policy.evaluate', { 'stella.findings': findings.length }, (span) => {
        const decisions: Decision[] = findings.map((f) => {
          const d = evaluateFinding(policy, f);
          logDecision({
            kind: 'policy',
            effect: d.effect,
            reason: d.reason,
            policy_version: version,
            rule_ids: [d.rule_id],
            resource: f.purl,
            action: 'evaluate',
            details: { advisory_id: f.advisory_id, severity: f.severity, vex_status: f.vex_status, fixable: f.fixable },
          }, rt.logger);
          return { advisory_id: f.advisory_id, purl: f.purl, rule_id: d.rule_id, effect: d.effect, reason: d.reason };
        });
        const denies = decisions.filter((d) => d.effect === 'deny');
        const verdict: PolicyEffect = denies.length > 0 ? 'deny' : decisions.some((d) => d.effect === 'warn') ? 'warn' : 'allow';
        const ruleIds = [...new Set(decisions.map((d) => d.rule_id))].sort();
        span.setAttribute('stella.policy.effect', verdict);
        span.setAttribute('stella.policy.rule_ids', ruleIds);
        span.setAttribute('stella.policy.reason', denies.length > 0 ? `${denies.length} finding(s) denied by ${[...new Set(denies.map((d) => d.rule_id))].join(', ')}` : 'no finding denied');
        return { decisions, verdict, ruleIds };
      }, { fields: { sbom_id, policy_version: version } });
      const counts = { allow: 0, warn: 0, deny: 0 };
      for (const d of evaluation.decisions) counts[d.effect]++;
      const decisionsDigest = canonicalDigest(evaluation.decisions);
      // Tenant and SBOM are part of the id: the same decisions for another SBOM are another evaluation.
      const evaluationId = `eval-${canonicalDigest({ tenant, sbom_id, decisionsDigest }).slice(7, 23)}`;
      if (rt.config.features.evidence) {
        // The evaluation's inputs and decision trace, for its evidence snapshot (EVI-2).
        const resource = { type: 'evaluation', id: evaluationId };
        await Promise.all([
          rt.stella.attach(resource, 'policy', 'baseline.policy.json', raw),
          rt.stella.attach(resource, 'engine', 'engine.json', canonicalJson({ engine: 'stellaops-policy-engine', version: WORKLOAD_VERSION, policy_version: version })),
          rt.stella.attach(resource, 'input', 'findings.json', canonicalJson(findings)),
          rt.stella.attach(resource, 'output', 'decisions.json', canonicalJson(evaluation.decisions)),
        ]);
      }
      journey.end('success');
      rt.logger.info({ sbom_id, policy_version: version, decision_effect: evaluation.verdict, resource: 'sbom', action: 'policy.evaluate', details: counts }, 'policy evaluated');
      await rt.stella.emit({
        kind: 'policy.evaluated',
        resource_type: 'evaluation',
        resource_id: evaluationId,
        details: {
          evaluation_id: evaluationId,
          sbom_id,
          policy_version: version,
          policy_digest: digest,
          verdict: evaluation.verdict,
          decisions: counts,
          decisions_digest: decisionsDigest,
          rule_ids: evaluation.ruleIds,
          custody: { step: 'policy.eval', subject: custodySubject(sbom_id), input_digest: components_digest, output_digest: decisionsDigest },
        },
      });
      return { evaluation_id: evaluationId, sbom_id, policy_version: version, policy_digest: digest, verdict: evaluation.verdict, counts, decisions_digest: decisionsDigest, decisions: evaluation.decisions };
    } catch (err) {
      journey.end('failure');
      throw err;
    }
  });
}
