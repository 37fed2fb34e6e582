/**
 * DORA-1..5 over the repository: records deployments (idempotent by id) and incidents
 * (upserts), counts them in the service's `dora_*` metrics once each, and computes metrics and
 * reports with the pure modules (dora-metrics.ts, dora-report.ts). The API and the bus
 * consumer both record through here, so a record has one set of rules and counts the same way
 * whichever way it came.
 */
import type { Logger } from '@stellaops/telemetry-core';
import { ServiceError } from '../errors.js';
import type { DoraInstruments } from '../self/service-metrics.js';
import {
  classifyDora,
  computeDoraMetrics,
  doraSloStatus,
  isFailure,
  leadTimeMs,
  MS_PER_DAY,
  MS_PER_HOUR,
  overLeadTimeTarget,
  overRecoveryTarget,
  toDeployment,
  toIncident,
  type DoraClassification,
  type DoraMetrics,
  type DoraSloStatus,
  type DoraTargets,
} from './dora-metrics.js';
import type { DoraInputError} from './dora-records.js';
import { sameDeployment, validateDeployment, validateIncident, type DeploymentRecord, type IncidentRecord } from './dora-records.js';
import type { DoraRepository } from './dora-repository.js';
import { buildOutcomeReport, type DoraOutcomeReport } from './dora-report.js';

/** Widest window a metrics query or report covers, in days (a report has one cohort per day). */
export const MAX_WINDOW_DAYS = 366;
/** Most deployments (and, apart, incidents) one computation reads. */
export const MAX_RECORDS = 200_000;
/** Window of `GET /dora/metrics` without `from`. */
export const DEFAULT_WINDOW_DAYS = 30;

export interface DoraServiceOptions {
  repository: DoraRepository;
  instruments: DoraInstruments;
  targets: DoraTargets;
  /** Trailing window of the gauges, in days. */
  gaugeWindowDays: number;
  logger: Logger;
  clock: () => number;
}

export interface DoraScope {
  environment?: string | undefined;
  fromMs: number;
  toMs: number;
}

export interface DoraMetricsAnswer extends DoraMetrics {
  tenant: string;
  environment: string | null;
  from: string;
  to: string;
  classification: DoraClassification;
  slo: DoraSloStatus;
}

/** A DoraInputError as the 400 the API answers (`field` is the request's: `body.deploy_time`). */
export function invalidRecord(error: DoraInputError, prefix: 'body' | 'params'): ServiceError {
  return new ServiceError('dora.record_invalid', error.message, { field: `${prefix}.${error.field}` });
}

export class DoraService {
  constructor(private readonly options: DoraServiceOptions) {}

  get targets(): DoraTargets {
    return this.options.targets;
  }

  /**
   * Records a deployment (throws DoraInputError for a record that breaks the rules, and
   * `dora.deployment_conflict` when the id holds another record). Counted once, when created.
   */
  async recordDeployment(tenant: string, input: unknown): Promise<{ created: boolean; deployment: DeploymentRecord }> {
    const record = validateDeployment(input);
    const { created, stored } = await this.options.repository.insertDeployment(tenant, record);
    if (!created) {
      if (!sameDeployment(stored, record)) {
        throw new ServiceError('dora.deployment_conflict', `deployment ${record.deployment_id} was recorded before with other content; deployments are immutable`, {
          field: 'body.deployment_id',
        });
      }
      return { created: false, deployment: stored };
    }
    const { instruments, targets } = this.options;
    const d = toDeployment(stored);
    const labels = { tenant, environment: stored.environment };
    instruments.deployments.add(1, { ...labels, outcome: stored.outcome });
    if (isFailure(d)) instruments.failures.add(1, { ...labels, outcome: stored.outcome });
    instruments.leadTime.record(leadTimeMs(d) / MS_PER_HOUR, labels);
    if (overLeadTimeTarget(d, targets)) instruments.sloBreaches.add(1, { tenant, metric: 'lead_time' });
    return { created: true, deployment: stored };
  }

  /**
   * Creates or replaces an incident (throws DoraInputError). Its recovery is measured, and a
   * recovery over the target counted, when it becomes resolved (or its resolution changes).
   */
  async recordIncident(tenant: string, input: unknown, incidentId?: string): Promise<{ created: boolean; incident: IncidentRecord }> {
    const record = validateIncident(input, incidentId);
    const { previous, stored } = await this.options.repository.upsertIncident(tenant, record);
    const now = toIncident(stored);
    const before = previous ? toIncident(previous) : undefined;
    const resolvedNow = now.resolvedMs !== null && (before?.resolvedMs !== now.resolvedMs || before?.startedMs !== now.startedMs);
    if (resolvedNow) {
      const { instruments, targets } = this.options;
      instruments.recovery.record((now.resolvedMs! - now.startedMs) / MS_PER_HOUR, { tenant, environment: stored.environment });
      if (overRecoveryTarget(now, targets) && !(before && overRecoveryTarget(before, targets))) instruments.sloBreaches.add(1, { tenant, metric: 'time_to_recovery' });
    }
    return { created: previous === undefined, incident: stored };
  }

  /** The window of a query: [from, to) with defaults and bounds (400 `dora.window_invalid`). */
  window(query: { from?: string | undefined; to?: string | undefined }, defaults: boolean): { fromMs: number; toMs: number } {
    const toMs = query.to !== undefined ? Date.parse(query.to) : defaults ? this.options.clock() : NaN;
    const fromMs = query.from !== undefined ? Date.parse(query.from) : defaults ? toMs - DEFAULT_WINDOW_DAYS * MS_PER_DAY : NaN;
    if (!Number.isFinite(fromMs)) throw new ServiceError('dora.window_invalid', query.from === undefined ? 'from is required: the window [from, to) of the report' : 'from must be an RFC 3339 time', { field: 'query.from' });
    if (!Number.isFinite(toMs)) throw new ServiceError('dora.window_invalid', query.to === undefined ? 'to is required: the window [from, to) of the report' : 'to must be an RFC 3339 time', { field: 'query.to' });
    if (fromMs >= toMs) throw new ServiceError('dora.window_invalid', `from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()})`, { field: 'query.from' });
    if (toMs - fromMs > MAX_WINDOW_DAYS * MS_PER_DAY) {
      throw new ServiceError('dora.window_invalid', `the window is longer than ${MAX_WINDOW_DAYS} days; split it`, { field: 'query.from', extra: { allowed: { max_days: MAX_WINDOW_DAYS } } });
    }
    return { fromMs, toMs };
  }

  private async read(tenant: string, scope: DoraScope): Promise<{ deployments: DeploymentRecord[]; incidents: IncidentRecord[] }> {
    const filter = { environment: scope.environment, fromMs: scope.fromMs, toMs: scope.toMs, limit: MAX_RECORDS };
    const [deployments, incidents] = await Promise.all([this.options.repository.deployments(tenant, filter), this.options.repository.incidents(tenant, filter)]);
    if (deployments.length > MAX_RECORDS || incidents.length > MAX_RECORDS) {
      throw new ServiceError('dora.window_too_large', `the window holds more than ${MAX_RECORDS} deployments or incidents; narrow it (or name an environment)`, {
        field: 'query.from',
        extra: { allowed: { max_records: MAX_RECORDS } },
      });
    }
    return { deployments, incidents };
  }

  async metrics(tenant: string, scope: DoraScope): Promise<DoraMetricsAnswer> {
    const { deployments, incidents } = await this.read(tenant, scope);
    const w = { fromMs: scope.fromMs, toMs: scope.toMs };
    const ds = deployments.map(toDeployment);
    const is = incidents.map(toIncident);
    const m = computeDoraMetrics(ds, is, w);
    return {
      tenant,
      environment: scope.environment ?? null,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      ...m,
      classification: classifyDora(m),
      slo: doraSloStatus(m, ds, is, w, this.options.targets),
    };
  }

  async report(tenant: string, scope: DoraScope): Promise<DoraOutcomeReport> {
    const { deployments, incidents } = await this.read(tenant, scope);
    return buildOutcomeReport({ tenant, environment: scope.environment ?? null }, deployments.map(toDeployment), incidents.map(toIncident), { fromMs: scope.fromMs, toMs: scope.toMs });
  }

  /** Computes the tenant's gauges again: deployment frequency and change failure rate per environment over the trailing window. */
  async refreshGauges(tenant: string): Promise<void> {
    const toMs = this.options.clock();
    const days = this.options.gaugeWindowDays;
    const rows = await this.options.repository.recentByEnvironment(tenant, toMs - days * MS_PER_DAY, toMs);
    this.options.instruments.gauges.setTenant(
      tenant,
      rows.map((r) => ({ environment: r.environment, frequencyPerDay: r.deployments / days, changeFailureRatePercent: r.deployments === 0 ? null : (r.failures * 100) / r.deployments })),
    );
  }

  /** Refreshes the gauges of the given tenants; a failure is logged and does not reach the caller. */
  async refreshGaugesQuietly(tenants: Iterable<string>): Promise<void> {
    for (const tenant of tenants) {
      try {
        await this.refreshGauges(tenant);
      } catch (error) {
        this.options.logger.warn({ tenant_id: tenant, err: error, error_code: 'dora.gauges_failed' }, 'DORA gauges not refreshed; the next pass tries again');
      }
    }
  }
}
