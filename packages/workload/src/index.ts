/**
 * @stellaops/workload — reference StellaOps services instrumented with telemetry-core, the
 * real-format fixtures they run on, and the demo driver.
 */
export { runDemo } from './demo/run-demo.js';
export type { DemoOptions, DemoResult, StepResult } from './demo/run-demo.js';
export { CONSOLE_USER_SCOPES, renderSummary } from './demo/summary.js';
export { startStack } from './demo/stack.js';
export type { Stack, StackOptions, ServiceFeatures } from './demo/stack.js';
export { tenantRoutingMetricExporter, splitMetricsByTenant } from './telemetry/tenant-routing-metric-exporter.js';
export { DEMO_TENANTS, runTenantJourney, submitJob, waitForJob } from './demo/journey.js';
export type { TenantPlan, TenantRun, SubmittedJob } from './demo/journey.js';
export { EVALUATION_CHAIN, checkLogs, timelineChain, wrongTenantDenial } from './demo/checks.js';
export { BROKEN_SOURCE, BURN_PAIR, BURN_SERVICE, BURN_SLO, FAILING_EVALUATIONS, journeyObservations } from './demo/slo-steps.js';
export type { IncidentView, SloBreachView, SloBurnOutcome, SloReading } from './demo/slo-steps.js';
export type { LogCheck } from './demo/checks.js';
export { SERVICE_NAMES } from './services/workload-config.js';
export type { WorkloadConfig, WorkloadServiceName } from './services/workload-config.js';
export type { JobRecord, EvaluationResult, JobPayload } from './services/jobs.js';
export { WorkloadError, WORKLOAD_ERRORS } from './formats/errors.js';
export type { WorkloadErrorCode } from './formats/errors.js';
export { readCycloneDx, parsePurl } from './formats/cyclonedx.js';
export { validateOsv } from './formats/osv.js';
export { validateOpenVex } from './formats/openvex.js';
export { validatePolicySet, evaluateFinding, policyVersion } from './formats/policy.js';
export { parseSemVer, compareSemVer, versionInRange } from './fixtures/semver.js';
export { generateFixtures, loadCatalog, FIXTURES_DIR } from './fixtures/generate.js';
