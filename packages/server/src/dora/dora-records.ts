/**
 * DORA-1 records and their rules, one place for the HTTP API and the Release Orchestrator's bus
 * messages: a deployment `{deployment_id, service, environment, pipeline, commit_time,
 * deploy_time, outcome}` and an incident `{incident_id, environment, service?, severity,
 * started_at, acknowledged_at?, resolved_at?}`. Times are RFC 3339 with an offset and are kept
 * to the millisecond, in UTC (`Date#toISOString()`), so two spellings of one instant are one
 * record. Pure: no I/O.
 */
export const DEPLOYMENT_OUTCOMES = ['success', 'rollback', 'hotfix', 'failed'] as const;
export type DeploymentOutcome = (typeof DEPLOYMENT_OUTCOMES)[number];
/** Outcomes that count as a change failure (CFR): the change had to be rolled back, hot-fixed, or failed. */
export const FAILURE_OUTCOMES: ReadonlySet<DeploymentOutcome> = new Set(['rollback', 'hotfix', 'failed']);

export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

export interface DeploymentRecord {
  deployment_id: string;
  service: string;
  environment: string;
  /** As sent (the report normalises it); may be empty. */
  pipeline: string;
  commit_time: string;
  deploy_time: string;
  outcome: DeploymentOutcome;
}

export interface IncidentRecord {
  incident_id: string;
  environment: string;
  service: string | null;
  severity: IncidentSeverity;
  started_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
}

/** A record that breaks a rule; `field` names it (`deploy_time`, `resolved_at`). */
export class DoraInputError extends Error {
  override readonly name = 'DoraInputError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export const ID_MAX = 200;
export const ENVIRONMENT_MAX = 100;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Identifiers and names: 1..max characters, no control characters, no lone surrogates. */
function id(value: unknown, field: string, max: number, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0) || value.length > max || !value.isWellFormed() || [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new DoraInputError(field, `${field} must be ${allowEmpty ? '0' : '1'}-${max} characters without control characters`);
  }
  return value;
}

/** An RFC 3339 time with an offset, as milliseconds; years 1-9999 (what the store takes). */
export function parseTime(value: unknown, field: string): number {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  const ms = m ? Date.parse(value as string) : NaN;
  if (!m || !Number.isFinite(ms)) throw new DoraInputError(field, `${field} must be an RFC 3339 time with an offset, e.g. 2026-03-01T12:00:00Z`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  // Date.parse rolls 2026-02-30 over to March; a real calendar time does not.
  const check = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  if (y! < 1 || check.getUTCDate() !== d || check.getUTCMonth() !== mo! - 1 || h! > 23 || mi! > 59 || s! > 59) throw new DoraInputError(field, `${field} is not a calendar time: ${String(value)}`);
  const year = new Date(ms).getUTCFullYear();
  if (year < 1 || year > 9999) throw new DoraInputError(field, `${field} must fall in the years 1 to 9999`);
  return ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function optionalTime(value: unknown, field: string): number | null {
  return value === undefined || value === null ? null : parseTime(value, field);
}

function objectOf(value: unknown, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DoraInputError('body', 'the record must be a JSON object');
  const r = value as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new DoraInputError(unknown[0]!, `${unknown[0]} is not a field of the record`);
  return r;
}

const DEPLOYMENT_FIELDS = ['deployment_id', 'service', 'environment', 'pipeline', 'commit_time', 'deploy_time', 'outcome'] as const;
const INCIDENT_FIELDS = ['incident_id', 'environment', 'service', 'severity', 'started_at', 'acknowledged_at', 'resolved_at'] as const;

/** Checks a deployment; throws DoraInputError naming the field. */
export function validateDeployment(value: unknown): DeploymentRecord {
  const r = objectOf(value, DEPLOYMENT_FIELDS);
  const deploymentId = id(r['deployment_id'], 'deployment_id', ID_MAX);
  const service = id(r['service'], 'service', ID_MAX);
  const environment = id(r['environment'], 'environment', ENVIRONMENT_MAX);
  const pipeline = r['pipeline'] === undefined || r['pipeline'] === null ? '' : id(r['pipeline'], 'pipeline', ID_MAX, true);
  const commit = parseTime(r['commit_time'], 'commit_time');
  const deploy = parseTime(r['deploy_time'], 'deploy_time');
  const outcome = r['outcome'];
  if (typeof outcome !== 'string' || !(DEPLOYMENT_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new DoraInputError('outcome', `outcome must be one of ${DEPLOYMENT_OUTCOMES.join(', ')}`);
  }
  if (deploy < commit) throw new DoraInputError('deploy_time', `deploy_time (${iso(deploy)}) is before commit_time (${iso(commit)})`);
  return { deployment_id: deploymentId, service, environment, pipeline, commit_time: iso(commit), deploy_time: iso(deploy), outcome: outcome as DeploymentOutcome };
}

/** Checks an incident (its id from the path, or from the message); throws DoraInputError naming the field. */
export function validateIncident(value: unknown, incidentId?: string): IncidentRecord {
  const r = objectOf(value, incidentId === undefined ? INCIDENT_FIELDS : INCIDENT_FIELDS.filter((f) => f !== 'incident_id'));
  const incident = id(incidentId ?? r['incident_id'], 'incident_id', ID_MAX);
  const environment = id(r['environment'], 'environment', ENVIRONMENT_MAX);
  const service = r['service'] === undefined || r['service'] === null ? null : id(r['service'], 'service', ID_MAX);
  const severity = r['severity'];
  if (typeof severity !== 'string' || !(INCIDENT_SEVERITIES as readonly string[]).includes(severity)) {
    throw new DoraInputError('severity', `severity must be one of ${INCIDENT_SEVERITIES.join(', ')}`);
  }
  const started = parseTime(r['started_at'], 'started_at');
  const acknowledged = optionalTime(r['acknowledged_at'], 'acknowledged_at');
  const resolved = optionalTime(r['resolved_at'], 'resolved_at');
  if (acknowledged !== null && acknowledged < started) throw new DoraInputError('acknowledged_at', `acknowledged_at (${iso(acknowledged)}) is before started_at (${iso(started)})`);
  if (resolved !== null && resolved < started) throw new DoraInputError('resolved_at', `resolved_at (${iso(resolved)}) is before started_at (${iso(started)})`);
  return {
    incident_id: incident,
    environment,
    service,
    severity: severity as IncidentSeverity,
    started_at: iso(started),
    acknowledged_at: acknowledged === null ? null : iso(acknowledged),
    resolved_at: resolved === null ? null : iso(resolved),
  };
}

/** True when two deployments with one id are the same record (idempotent re-sends). */
export function sameDeployment(a: DeploymentRecord, b: DeploymentRecord): boolean {
  return DEPLOYMENT_FIELDS.every((f) => a[f] === b[f]);
}
