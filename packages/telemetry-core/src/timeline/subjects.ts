/**
 * Bus subjects (SPEC TL-6): `<prefix>.<tenant>.timeline.<kind>`, `<prefix>.<tenant>.slo.breach`,
 * `<prefix>.<tenant>.incident.mode`, `<prefix>.<tenant>.incident.request`, `<prefix>.<tenant>.deep_debug.grant`,
 * `<prefix>.<tenant>.release.deployment` and `<prefix>.<tenant>.release.incident` (the Release Orchestrator's
 * DORA records); `<prefix>.global.kb.*` stays tenant-free, so `global` is
 * not a tenant id. The prefix is `stella` in production; tests and benchmarks pick their own so
 * they never collide with an installation on the same NATS server.
 */
import { isValidTenantId, tenantIdProblem } from '../tenant-id.js';
import { TimelineError } from './errors.js';

export const DEFAULT_SUBJECT_PREFIX = 'stella';

/** Kinds are dotted lower-case tokens, e.g. `policy.evaluated`, `audit.timeline.retention_changed`. */
const KIND_RE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+){0,7}$/;
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export { isValidTenantId };

/** Throws `timeline.tenant_invalid` with an actionable message unless `tenant` is a valid tenant id. */
export function assertTenantId(tenant: unknown, field = 'tenant_id'): asserts tenant is string {
  if (!isValidTenantId(tenant)) {
    throw new TimelineError('timeline.tenant_invalid', tenantIdProblem(field), field);
  }
}

export function isValidKind(kind: unknown): kind is string {
  return typeof kind === 'string' && kind.length <= 128 && KIND_RE.test(kind);
}

export function assertSubjectPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new TimelineError('bus.subject_invalid', `subject prefix "${prefix}" must be dot-separated tokens of letters, digits, "_" or "-"`);
  }
}

export function timelineSubject(tenant: string, kind: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  if (!isValidKind(kind)) throw new TimelineError('timeline.kind_invalid', `kind "${kind}" is not a dotted lower-case name`, 'kind');
  return `${prefix}.${tenant}.timeline.${kind}`;
}

export function sloBreachSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.slo.breach`;
}

export function incidentModeSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.incident.mode`;
}

/** Requests to switch a tenant's incident mode (the Orchestrator's; INC-3): `<prefix>.<tenant>.incident.request`. */
export function incidentRequestSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.incident.request`;
}

/** Filter subject for every tenant's incident requests. */
export function incidentRequestFilterSubject(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.*.incident.request`;
}

/** A tenant's deep-debug grant as the Observability service holds it (CORE-2): `<prefix>.<tenant>.deep_debug.grant`. */
export function deepDebugSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.deep_debug.grant`;
}

/** Filter subject for every tenant's deep-debug grants. */
export function deepDebugFilterSubject(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.*.deep_debug.grant`;
}

/** Deployments the Release Orchestrator reports when it completes a promotion or rollback (DORA-1): `<prefix>.<tenant>.release.deployment`. */
export function releaseDeploymentSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.release.deployment`;
}

/** Incidents the Release Orchestrator reports, opened, acknowledged or resolved (DORA-1): `<prefix>.<tenant>.release.incident`. */
export function releaseIncidentSubject(tenant: string, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertTenantId(tenant);
  return `${prefix}.${tenant}.release.incident`;
}

/** Filter subject for every tenant's reported deployments. */
export function releaseDeploymentFilterSubject(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.*.release.deployment`;
}

/** Filter subject for every tenant's reported incidents. */
export function releaseIncidentFilterSubject(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.*.release.incident`;
}

/** Filter subjects of the one stream the platform uses (TL-6). */
export function streamSubjects(prefix = DEFAULT_SUBJECT_PREFIX): string[] {
  return [
    `${prefix}.*.timeline.>`,
    `${prefix}.*.slo.breach`,
    `${prefix}.*.incident.mode`,
    `${prefix}.*.incident.request`,
    deepDebugFilterSubject(prefix),
    releaseDeploymentFilterSubject(prefix),
    releaseIncidentFilterSubject(prefix),
  ];
}

/** Filter subject for every tenant's timeline events. */
export function timelineFilterSubject(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.*.timeline.>`;
}

/** The tenant token of a subject under `prefix`, or undefined when the subject is not under it. */
export function tenantOfSubject(subject: string, prefix = DEFAULT_SUBJECT_PREFIX): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const rest = subject.slice(prefix.length + 1);
  const dot = rest.indexOf('.');
  return dot > 0 ? rest.slice(0, dot) : undefined;
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i]!;
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}
