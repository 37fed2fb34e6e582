/**
 * A tenant's retention tiers per telemetry signal (`telemetry_retention_tiers`), merged over
 * the service defaults. A change is validated against the retention policy as a whole (hot,
 * warm and cold together) and written with its `audit.telemetry.retention_changed` event in one
 * transaction, so the change and its trail commit or fail together (AUTH-4).
 */
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { checkSignalTiers, SIGNALS, type RetentionSignal, type SignalTiers } from '../retention/policy.js';
import { ensureTenant } from '../store/tenants.js';

export interface EffectiveTiers extends SignalTiers {
  source: 'tenant' | 'default';
}

export type TiersChange = Partial<Record<RetentionSignal, Partial<SignalTiers>>>;

export class TelemetryRetentionSettings {
  constructor(
    private readonly store: SqlStore,
    /** Service defaults per signal. */
    readonly defaults: Record<RetentionSignal, SignalTiers>,
  ) {}

  async readTx(tx: SqlTx, tenant: string): Promise<Record<RetentionSignal, EffectiveTiers>> {
    const { rows } = await tx.query<{ signal: RetentionSignal; hot_days: number; warm_days: number; cold_days: number }>(
      'SELECT signal, hot_days, warm_days, cold_days FROM telemetry_retention_tiers WHERE tenant_id = $1',
      [tenant],
    );
    const out = {} as Record<RetentionSignal, EffectiveTiers>;
    for (const signal of SIGNALS) {
      const own = rows.find((r) => r.signal === signal);
      out[signal] = own
        ? { hot_days: Number(own.hot_days), warm_days: Number(own.warm_days), cold_days: Number(own.cold_days), source: 'tenant' }
        : { ...this.defaults[signal], source: 'default' };
    }
    return out;
  }

  read(tenant: string): Promise<Record<RetentionSignal, EffectiveTiers>> {
    return this.store.tenantTransaction(tenant, (tx) => this.readTx(tx, tenant));
  }

  /**
   * Applies `change` over the current tiers, refusing (400 retention.out_of_bounds, nothing
   * written) any signal whose result leaves the policy's bounds; in the caller's transaction
   * (which stores the audit event). Returns the tiers before and after.
   */
  async update(
    tx: SqlTx,
    tenant: string,
    change: TiersChange,
    by: string,
  ): Promise<{ previous: Record<RetentionSignal, EffectiveTiers>; next: Record<RetentionSignal, EffectiveTiers> }> {
    const previous = await this.readTx(tx, tenant);
    const next = { ...previous };
    for (const signal of SIGNALS) {
      const c = change[signal];
      if (!c) continue;
      const tiers: SignalTiers = {
        hot_days: c.hot_days ?? previous[signal].hot_days,
        warm_days: c.warm_days ?? previous[signal].warm_days,
        cold_days: c.cold_days ?? previous[signal].cold_days,
      };
      checkSignalTiers(signal, tiers);
      next[signal] = { ...tiers, source: 'tenant' };
    }
    await ensureTenant(tx, tenant);
    for (const signal of SIGNALS) {
      if (!change[signal]) continue;
      const t = next[signal];
      await tx.query(
        `INSERT INTO telemetry_retention_tiers (tenant_id, signal, hot_days, warm_days, cold_days, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, now(), $6)
         ON CONFLICT (tenant_id, signal) DO UPDATE SET hot_days = EXCLUDED.hot_days, warm_days = EXCLUDED.warm_days, cold_days = EXCLUDED.cold_days,
           updated_at = now(), updated_by = EXCLUDED.updated_by`,
        [tenant, signal, t.hot_days, t.warm_days, t.cold_days, by],
      );
    }
    return { previous, next };
  }
}
