/**
 * Every `STELLA_SLO_EVALUATION_INTERVAL_MS` (default 60 s), for every tenant: the SLOs are
 * evaluated from the metrics query and the latest evaluation kept for `GET /obs/slo`; a
 * page-level pair that fires opens a breach (slo-breaches.ts: bus, webhooks, incident mode),
 * and an open breach the evaluator opened is resolved once its pair has data and no longer
 * fires. A tenant whose evaluation fails keeps its previous one; the failure is logged and
 * counted, and the other tenants are evaluated all the same.
 */
import type { Slo } from '@stellaops/collector-config';
import { isValidTenantId } from '@stellaops/telemetry-core/tenant-id';
import type { Logger } from '@stellaops/telemetry-core';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import type { MetricsQuery } from '../obs/metrics-query.js';
import type { SqlStore } from '../store/sql-store.js';
import { breachFingerprint } from './slo-breach.js';
import type { SloBreaches } from './slo-breaches.js';
import { pairBurnRate, type SloEvaluator, type TenantEvaluation } from './slo-evaluator.js';

export interface SloEvaluationJobOptions {
  slos: readonly Slo[];
  evaluator: SloEvaluator;
  metrics: MetricsQuery;
  breaches: SloBreaches;
  store: SqlStore;
  logger: Logger;
  clock: () => number;
  intervalMs: number;
  /** The job runs on the cluster's leader. */
  leadership: Leadership;
}

export interface EvaluationPass {
  tenants: number;
  failed: number;
  /** Breaches opened and resolved by this pass. */
  opened: number;
  resolved: number;
}

export interface EvaluationHealth {
  /** Tenant evaluations that failed since the service started. */
  failures: number;
  lastFailureAt: number | undefined;
}

export class SloEvaluationJob extends PeriodicJob<EvaluationPass> {
  private readonly latest = new Map<string, TenantEvaluation>();
  readonly health: EvaluationHealth = { failures: 0, lastFailureAt: undefined };

  constructor(private readonly options: SloEvaluationJobOptions) {
    super({ name: 'SLO evaluation', intervalMs: options.intervalMs, logger: options.logger, leadership: options.leadership });
  }

  /** The tenant's latest evaluation, if one is at most two intervals old. */
  latestFor(tenant: string): TenantEvaluation | undefined {
    const e = this.latest.get(tenant);
    return e && this.options.clock() - e.atMs <= 2 * this.options.intervalMs ? e : undefined;
  }

  /**
   * Evaluates one tenant now and keeps the result; with `act`, opens and resolves its breaches
   * (the job does; a read that finds no recent evaluation does not).
   */
  async evaluateTenant(tenant: string, options: { act: boolean }): Promise<{ evaluation: TenantEvaluation; opened: number; resolved: number }> {
    const { evaluator, slos, clock } = this.options;
    const evaluation = await evaluator.evaluate(tenant, slos, clock());
    this.latest.set(tenant, evaluation);
    const acted = options.act ? await this.act(evaluation) : { opened: 0, resolved: 0 };
    return { evaluation, ...acted };
  }

  protected async pass(): Promise<EvaluationPass> {
    const run: EvaluationPass = { tenants: 0, failed: 0, opened: 0, resolved: 0 };
    if (this.options.slos.length === 0) return run;
    let tenants: string[];
    try {
      tenants = await this.tenants();
    } catch (error) {
      run.failed++;
      this.failed(error, undefined);
      return run;
    }
    for (const tenant of tenants) {
      run.tenants++;
      try {
        const { opened, resolved } = await this.evaluateTenant(tenant, { act: true });
        run.opened += opened;
        run.resolved += resolved;
      } catch (error) {
        run.failed++;
        this.failed(error, tenant);
      }
    }
    return run;
  }

  private failed(error: unknown, tenant: string | undefined): void {
    this.health.failures++;
    this.health.lastFailureAt = this.options.clock();
    this.options.logger.error({ err: error, ...(tenant ? { tenant_id: tenant } : {}) }, 'SLO evaluation failed; the previous evaluation stays in use');
  }

  /** Tenants the store knows, and those the metrics backend holds series of. */
  private async tenants(): Promise<string[]> {
    const { store, metrics } = this.options;
    const { rows } = await store.tenantTransaction(null, (tx) => tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id'));
    const all = new Set(rows.map((r) => r.tenant_id));
    try {
      for (const t of await metrics.tenants()) all.add(t);
    } catch (error) {
      this.failed(error, undefined);
    }
    return [...all].filter((t) => isValidTenantId(t)).sort();
  }

  private async act(evaluation: TenantEvaluation): Promise<{ opened: number; resolved: number }> {
    const { breaches, slos } = this.options;
    const { tenant, atMs } = evaluation;
    const open = await breaches.open(tenant);
    let opened = 0;
    let resolved = 0;
    for (const status of evaluation.slos) {
      const slo = slos.find((s) => s.name === status.name)!;
      for (const pair of status.burn_rates) {
        if (pair.severity !== 'page') continue;
        const fingerprint = breachFingerprint(tenant, status.name, status.service, pair.severity, pair.long_window);
        if (pair.firing) {
          if (open.has(fingerprint)) continue;
          const outcome = await breaches.fire({
            tenant,
            slo: status.name,
            service: status.service,
            severity: pair.severity,
            longWindow: pair.long_window,
            shortWindow: pair.short_window,
            source: 'evaluator',
            burnRate: pairBurnRate(pair),
            startedAtMs: atMs,
            known: true,
            summary: `${slo.name}: error budget burning ${pair.burn_rate_threshold}x too fast over ${pair.long_window} and ${pair.short_window}`,
          });
          if (outcome.opened) opened++;
        } else if (open.get(fingerprint) === 'evaluator' && pair.long_burn_rate !== null && pair.short_burn_rate !== null) {
          if (await breaches.resolve(tenant, fingerprint, 'evaluator', atMs)) resolved++;
        }
      }
    }
    return { opened, resolved };
  }
}
