/**
 * Span-name and attribute conventions (CORE-4). Ingress spans are `api.<route>` (see
 * `routeSpanName`); work spans are `<component>.<operation>`, lower case, dot-separated,
 * with no ids in the name (ids go in attributes, so names stay low-cardinality).
 */
export const SPAN_NAMES = Object.freeze({
  orchestratorSchedule: 'orchestrator.schedule',
  runnerExecute: 'runner.execute',
  conseillerIngest: 'conseiller.ingest',
  excitatorLink: 'excitator.link',
  excitatorReconcile: 'excitator.reconcile',
  policyEvaluate: 'policy.evaluate',
  sbomIngest: 'sbom.ingest',
  ledgerAppend: 'ledger.append',
  exportBundle: 'export.bundle',
  notifySend: 'notify.send',
  evidenceCommit: 'evidence.commit',
  authzDecide: 'authz.decide',
  httpClient: 'http.client',
} as const);
export type SpanName = (typeof SPAN_NAMES)[keyof typeof SPAN_NAMES];

/** Attribute keys StellaOps spans carry; values never contain PII (they pass the scrubber). */
export const SPAN_ATTRIBUTES = Object.freeze({
  tenantId: 'stella.tenant_id',
  projectId: 'stella.project_id',
  jobId: 'stella.job_id',
  runId: 'stella.run_id',
  sbomId: 'stella.sbom_id',
  sourceId: 'stella.source_id',
  samplingReason: 'stella.sampling.reason',
  authzEffect: 'stella.authz.effect',
  authzReason: 'stella.authz.reason',
  authzScope: 'stella.authz.scope',
  authnMethod: 'stella.authn.method',
  policyEffect: 'stella.policy.effect',
  policyReason: 'stella.policy.reason',
  policyVersion: 'stella.policy.version',
  policyRuleIds: 'stella.policy.rule_ids',
} as const);

const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_{}]+)+$/;

/** True for names that follow the convention (`component.operation[.more]`). */
export function isConventionalSpanName(name: string): boolean {
  return NAME.test(name);
}
