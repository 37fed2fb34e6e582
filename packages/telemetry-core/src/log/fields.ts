/**
 * The fixed CORE-1 log fields, in output order. Fields that are not set are omitted from a
 * line, never written as null or "undefined".
 */
export const LOG_FIELDS = [
  'ts',
  'level',
  'service',
  'version',
  'env',
  'region',
  'instance_id',
  'tenant_id',
  'project_id',
  'actor',
  'route',
  'method',
  'resource',
  'action',
  'trace_id',
  'span_id',
  'parent_span_id',
  'request_id',
  'job_id',
  'run_id',
  'source_id',
  'sbom_id',
  'policy_version',
  'decision_effect',
  'decision_reason',
  'error_code',
  'error_message',
] as const;

export type LogField = (typeof LOG_FIELDS)[number];

export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LevelName = keyof typeof LEVELS;

export function isLevelName(value: unknown): value is LevelName {
  return typeof value === 'string' && Object.hasOwn(LEVELS, value);
}
