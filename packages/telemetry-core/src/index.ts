/**
 * @stellaops/telemetry-core — the one telemetry library every StellaOps Node service imports.
 */
export {
  withContext,
  withOtelContext,
  currentContext,
  currentFields,
  contextWithFields,
  ensureContextManager,
  CONTEXT_FIELDS,
} from './context/context.js';
export type { TelemetryContext, ActiveContext } from './context/context.js';
export {
  extractTraceContext,
  injectTraceHeaders,
  currentTraceparent,
  serializeJobContext,
  restoreJobContext,
} from './context/propagation.js';
export type { HeaderCarrier, SerializedJobContext, RestoreJobOptions } from './context/propagation.js';
export { openSpan, newSpanId, newTraceId, TRACER_NAME } from './context/span-scope.js';
export type { OpenSpanOptions, SpanScope } from './context/span-scope.js';
export {
  fastifyTelemetry,
  httpTelemetry,
  tracedFetch,
  enterRequestContext,
  addRequestObserver,
  routeSpanName,
} from './context/http.js';
export type { FastifyTelemetryOptions, HttpTelemetryOptions, RequestCompletion, RequestObserver } from './context/http.js';
export { installFetchPropagation } from './context/fetch-propagation.js';
export type { FetchPropagationOptions } from './context/fetch-propagation.js';

export { createLogger, getDefaultLogger, setDefaultLogger } from './log/logger.js';
export type { Logger, LoggerOptions } from './log/logger.js';
export { LOG_FIELDS, LEVELS } from './log/fields.js';
export type { LevelName, LogField } from './log/fields.js';
export { foldError } from './log/fold-error.js';
export type { FoldedError } from './log/fold-error.js';
export { addLogSink } from './log/sinks.js';
export type { LogSink } from './log/sinks.js';
export { setBreadcrumbPredicate } from './log/breadcrumbs.js';
export type { BreadcrumbPredicate } from './log/breadcrumbs.js';

export { logDecision, onDecision } from './decision/log-decision.js';
export type { DecisionInput, DecisionRecord, DecisionKind, DecisionEffect, DecisionListener } from './decision/log-decision.js';

export * from './scrub/index.js';
export { applyDeepDebugGrant } from './scrub/deep-debug.js';
export {
  BusDeepDebugSource,
  HttpDeepDebugSource,
  followDeepDebug,
  applyDeepDebugState,
  parseDeepDebugState,
  parseDeepDebugStatus,
  DEEP_DEBUG_PATH,
} from './scrub/deep-debug-source.js';
export type {
  DeepDebugSource,
  DeepDebugState,
  DeepDebugGrantEntry,
  DeepDebugChange,
  FollowDeepDebugOptions,
  BusDeepDebugSourceOptions,
  HttpDeepDebugSourceOptions,
} from './scrub/deep-debug-source.js';

export * from './timeline/index.js';
export { TENANT_ID_PATTERN, TENANT_ID_RULE, tenantIdProblem } from './tenant-id.js';
export { KNOWN_SCOPE_BASES, isKnownScopeBase, parseScope, parseShortScope, scopeBase, tenantScope } from './scopes.js';
export type { KnownScopeBase, Scope } from './scopes.js';
export * from './trace/index.js';
export * from './sampling/index.js';
export * from './metrics/index.js';
export * from './export/index.js';
export * from './egress/index.js';
export {
  DEFAULT_TELEMETRY_POLICY_FILE,
  TELEMETRY_POLICY_ENV,
  TELEMETRY_POLICY_VERSION,
  TelemetryPolicyError,
  loadTelemetryPolicy,
  parseTelemetryPolicy,
  validateTelemetryPolicy,
} from './policy/index.js';
export type { TelemetryPolicy, TelemetryPolicyErrorCode } from './policy/index.js';
export type { ActiveTelemetryPolicy, PolicyReloadOptions, TelemetryPolicyListener, TelemetryPolicyReload } from './policy/policy-runtime.js';
export { createTelemetry, initTelemetry } from './init.js';
export type { TelemetryOptions, TelemetryHandle, ShutdownResult } from './init.js';
