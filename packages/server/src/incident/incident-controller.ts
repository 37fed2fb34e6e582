/**
 * Incident mode (INC-1, INC-2, INC-4) for the service: the state is a row in the store; every
 * change is then broadcast on `<prefix>.<tenant>.incident.mode` (the tenant's complete set of
 * active modes, which telemetry-core processes apply to their samplers), audited as an
 * `audit.incident.*` timeline event, announced to the Notify webhook, and captured: a forensic
 * bundle of the preceding window at start and of the incident window at stop. Retention of the
 * incident window (plus a margin) is held. An active mode lapses at its TTL through `expire`,
 * which the TTL job runs on the injectable clock.
 */
import { join } from 'node:path';
import { incidentModeSubject, uuidv7, type Bus, type IncidentMode, type Logger, type TimelineEventInput } from '@stellaops/telemetry-core';
import type { ForensicCapture } from '../capture/forensic-capture.js';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { cloudEvent, type WebhookNotifier } from './webhook-notifier.js';
import { ensureTenant } from '../store/tenants.js';
import { placeRetentionHold, setRetentionHoldEnd } from '../segments/retention-holds.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { IncidentModeGauge } from '../self/service-metrics.js';

export type IncidentTrigger = 'operator' | 'slo_burn' | 'orchestrator';

export interface IncidentRecord {
  incident_id: string;
  tenant: string;
  service: string | null;
  reason: string;
  trigger: IncidentTrigger;
  started_at: string;
  expires_at: string;
  started_by: string;
  ended_at: string | null;
  end_reason: 'off' | 'ttl' | null;
  ended_by: string | null;
  start_capture: CaptureRef | null;
  stop_capture: CaptureRef | null;
}

export interface CaptureRef {
  file: string;
  window: { from: string; to: string };
  manifest_sha256: string;
  items: number;
}

/** What goes on the bus: the tenant's complete set of modes, so a subscriber can replace its view. */
export interface IncidentModeMessage {
  tenant: string;
  modes: IncidentMode[];
  /** The change that caused this message. */
  change: { incident_id: string; state: 'on' | 'off'; at: string };
}

export interface IncidentControllerOptions {
  config: ServiceConfig;
  store: SqlStore;
  bus: Bus;
  /** Each change of mode commits with its `audit.incident.*` event. */
  audit: AuditTrail;
  capture: ForensicCapture;
  webhook: WebhookNotifier | undefined;
  logger: Logger;
  clock: () => number;
  /** INC-4: `telemetry_incident_mode{tenant,state}`. Default: kept in `gaugeState()` only. */
  modeGauge?: IncidentModeGauge;
}

interface Row {
  incident_id: string;
  tenant_id: string;
  service: string;
  reason: string;
  trigger: IncidentTrigger;
  started_at: Date | string;
  expires_at: Date | string;
  started_by: string;
  ended_at: Date | string | null;
  end_reason: 'off' | 'ttl' | null;
  ended_by: string | null;
  start_capture: CaptureRef | string | null;
  stop_capture: CaptureRef | string | null;
}

const iso = (v: Date | string): string => new Date(v).toISOString();
const json = <T>(v: T | string | null): T | null => (v === null ? null : typeof v === 'string' ? (JSON.parse(v) as T) : v);

function toRecord(r: Row): IncidentRecord {
  return {
    incident_id: r.incident_id,
    tenant: r.tenant_id,
    service: r.service === '' ? null : r.service,
    reason: r.reason,
    trigger: r.trigger,
    started_at: iso(r.started_at),
    expires_at: iso(r.expires_at),
    started_by: r.started_by,
    ended_at: r.ended_at === null ? null : iso(r.ended_at),
    end_reason: r.end_reason,
    ended_by: r.ended_by,
    start_capture: json<CaptureRef>(r.start_capture),
    stop_capture: json<CaptureRef>(r.stop_capture),
  };
}

const COLUMNS = 'incident_id, tenant_id, service, reason, trigger, started_at, expires_at, started_by, ended_at, end_reason, ended_by, start_capture, stop_capture';

export class IncidentController {
  /** tenant → number of active modes, for the `telemetry_incident_mode` gauge. */
  private readonly gauge = new Map<string, number>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly options: IncidentControllerOptions) {}

  /** Current gauge values (what the metric reports), by tenant. */
  gaugeState(): Record<string, 'on' | 'off'> {
    return Object.fromEntries([...this.gauge].map(([t, n]) => [t, n > 0 ? 'on' : 'off']));
  }

  /** Resolves when background work (captures, webhook deliveries) has finished. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
    await this.options.webhook?.settled();
  }

  /** Active modes of a tenant, in the document shape telemetry-core's sources read. */
  async modes(tenant: string): Promise<IncidentMode[]> {
    const now = this.options.clock();
    const rows = await this.options.store.tenantTransaction(tenant, (tx) => this.active(tx, tenant));
    return rows.filter((r) => Date.parse(r.expires_at) > now).map((r) => ({ tenant, service: r.service, state: 'on' as const, expires_at: r.expires_at }));
  }

  /** Recent incidents of a tenant (newest first). */
  async history(tenant: string, limit = 20): Promise<IncidentRecord[]> {
    const rows = await this.options.store.tenantTransaction(tenant, (tx) =>
      tx.query<Row>(`SELECT ${COLUMNS} FROM incident_modes WHERE tenant_id = $1 ORDER BY started_at DESC, incident_id DESC LIMIT $2`, [tenant, limit]),
    );
    return rows.rows.map(toRecord);
  }

  /** Turns incident mode on (or extends the active one for the same scope). */
  async on(input: { tenant: string; service: string | null; ttlMs: number; reason: string; actor: string; trigger: IncidentTrigger }): Promise<{ incident: IncidentRecord; extended: boolean }> {
    const { config, clock } = this.options;
    const now = clock();
    const expires = new Date(now + input.ttlMs);
    const margin = config.incidentRetentionMarginHours * 3_600_000;
    const lookback = config.incidentCaptureLookbackMinutes * 60_000;
    const result = await this.options.audit.record(input.tenant, async (tx, audit) => {
      await ensureTenant(tx, input.tenant);
      const existing = await tx.query<Row>(`SELECT ${COLUMNS} FROM incident_modes WHERE tenant_id = $1 AND service = $2 AND ended_at IS NULL FOR UPDATE`, [input.tenant, input.service ?? '']);
      if (existing.rows[0]) {
        const row = await tx.query<Row>(`UPDATE incident_modes SET expires_at = $3, reason = $4 WHERE tenant_id = $1 AND incident_id = $2 RETURNING ${COLUMNS}`, [
          input.tenant,
          existing.rows[0].incident_id,
          expires,
          input.reason,
        ]);
        await setRetentionHoldEnd(tx, input.tenant, holdId(existing.rows[0].incident_id), expires.getTime() + margin, 'extend');
        await audit(auditInput('audit.incident.mode_extended', toRecord(row.rows[0]!), input.actor));
        return { row: row.rows[0]!, extended: true };
      }
      if (input.trigger !== 'operator' && config.incidentCooldownMinutes > 0) {
        const last = await tx.query<{ ended_at: Date | string }>('SELECT max(ended_at) AS ended_at FROM incident_modes WHERE tenant_id = $1 AND service = $2', [input.tenant, input.service ?? '']);
        const endedAt = last.rows[0]?.ended_at ? Date.parse(iso(last.rows[0].ended_at)) : undefined;
        const until = endedAt === undefined ? undefined : endedAt + config.incidentCooldownMinutes * 60_000;
        if (until !== undefined && until > now) {
          throw new ServiceError('incident.cooldown', `an incident for this scope ended at ${new Date(endedAt!).toISOString()}; automatic triggers are held off until ${new Date(until).toISOString()} (an operator may still turn it on)`, {
            extra: { allowed: { retry_after: new Date(until).toISOString() } },
          });
        }
      }
      const id = uuidv7(now);
      const row = await tx.query<Row>(
        `INSERT INTO incident_modes (tenant_id, incident_id, service, reason, trigger, started_at, expires_at, started_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [input.tenant, id, input.service ?? '', input.reason, input.trigger, new Date(now), expires, input.actor],
      );
      await placeRetentionHold(tx, input.tenant, {
        hold_id: holdId(id),
        from_ms: now - Math.max(margin, lookback),
        to_ms: expires.getTime() + margin,
        reason: `incident ${id}: ${input.reason}`,
      });
      await audit(auditInput('audit.incident.mode_on', toRecord(row.rows[0]!), input.actor));
      return { row: row.rows[0]!, extended: false };
    });
    const incident = toRecord(result.row);
    await this.broadcast(input.tenant, incident, 'on');
    if (!result.extended) {
      this.options.webhook?.send(cloudEvent('io.stellaops.incident.started', `tenant/${input.tenant}`, new Date(now), { ...incident }));
      // The start capture covers the preceding window up to and including the start instant.
      this.track(this.captureInto(incident, 'start', now - lookback, now + 1));
    }
    return { incident, extended: result.extended };
  }

  /** Turns the scope's incident mode off. */
  async off(input: { tenant: string; service: string | null; actor: string }): Promise<IncidentRecord> {
    const now = this.options.clock();
    const row = await this.options.audit.record(input.tenant, async (tx, audit) => {
      const updated = await tx.query<Row>(
        `UPDATE incident_modes SET ended_at = $3, end_reason = 'off', ended_by = $4
          WHERE tenant_id = $1 AND service = $2 AND ended_at IS NULL RETURNING ${COLUMNS}`,
        [input.tenant, input.service ?? '', new Date(now), input.actor],
      );
      if (!updated.rows[0]) return undefined;
      await this.shortenHold(tx, updated.rows[0], now);
      await audit(auditInput('audit.incident.mode_off', toRecord(updated.rows[0]), input.actor));
      return updated.rows[0];
    });
    if (!row) {
      throw new ServiceError('incident.not_active', `incident mode is not on for tenant "${input.tenant}"${input.service ? ` service "${input.service}"` : ''}`, { field: 'body.state' });
    }
    return this.stopped(toRecord(row), now);
  }

  /** Ends every mode whose TTL has passed (auto-revert); returns what it ended. */
  async expire(): Promise<IncidentRecord[]> {
    const { store } = this.options;
    const now = this.options.clock();
    const ended: IncidentRecord[] = [];
    const tenants = await store.tenantTransaction(null, (tx) => tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id'));
    for (const { tenant_id: tenant } of tenants.rows) {
      // The conditional UPDATE makes this safe on every replica: one of them ends each mode.
      const rows = await this.options.audit.record(tenant, async (tx, audit) => {
        const updated = await tx.query<Row>(
          `UPDATE incident_modes SET ended_at = expires_at, end_reason = 'ttl', ended_by = 'system:ttl'
            WHERE tenant_id = $1 AND ended_at IS NULL AND expires_at <= $2 RETURNING ${COLUMNS}`,
          [tenant, new Date(now)],
        );
        for (const r of updated.rows) {
          await this.shortenHold(tx, r, Date.parse(iso(r.expires_at)));
          await audit(auditInput('audit.incident.mode_expired', toRecord(r), 'system:ttl'));
        }
        return updated.rows;
      });
      for (const r of rows) ended.push(await this.stopped(toRecord(r), now));
      await this.refreshGauge(tenant);
    }
    return ended;
  }

  /**
   * Sets the gauge from a tenant's complete set of modes as another replica broadcast it, so every
   * replica's `telemetry_incident_mode` follows a change made anywhere in the cluster.
   */
  applyBroadcast(tenant: string, active: number): void {
    if (active > 0 || this.gauge.has(tenant)) this.setGauge(tenant, active);
  }

  /** Loads the gauge for every tenant (at start, and so replicas converge). */
  async refreshAll(): Promise<void> {
    const tenants = await this.options.store.tenantTransaction(null, (tx) => tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants'));
    for (const { tenant_id } of tenants.rows) await this.refreshGauge(tenant_id);
  }

  private async shortenHold(tx: SqlTx, row: Row, endMs: number): Promise<void> {
    const margin = this.options.config.incidentRetentionMarginHours * 3_600_000;
    await setRetentionHoldEnd(tx, row.tenant_id, holdId(row.incident_id), endMs + margin, 'set');
  }

  private async stopped(incident: IncidentRecord, now: number): Promise<IncidentRecord> {
    await this.broadcast(incident.tenant, incident, 'off');
    this.options.webhook?.send(cloudEvent('io.stellaops.incident.stopped', `tenant/${incident.tenant}`, new Date(now), { ...incident }));
    this.track(this.captureInto(incident, 'stop', Date.parse(incident.started_at), Date.parse(incident.ended_at ?? new Date(now).toISOString()) + 1));
    return incident;
  }

  private async active(tx: SqlTx, tenant: string): Promise<IncidentRecord[]> {
    const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM incident_modes WHERE tenant_id = $1 AND ended_at IS NULL ORDER BY service`, [tenant]);
    return rows.rows.map(toRecord);
  }

  private async refreshGauge(tenant: string): Promise<void> {
    const modes = await this.modes(tenant);
    if (modes.length > 0 || this.gauge.has(tenant)) this.setGauge(tenant, modes.length);
  }

  private setGauge(tenant: string, active: number): void {
    this.gauge.set(tenant, active);
    this.options.modeGauge?.set(tenant, active > 0);
  }

  private async broadcast(tenant: string, incident: IncidentRecord, state: 'on' | 'off'): Promise<void> {
    const modes = await this.modes(tenant);
    this.setGauge(tenant, modes.length);
    const message: IncidentModeMessage = { tenant, modes, change: { incident_id: incident.incident_id, state, at: new Date(this.options.clock()).toISOString() } };
    try {
      await this.options.bus.publish(incidentModeSubject(tenant, this.options.config.subjectPrefix), Buffer.from(JSON.stringify(message)), {
        msgId: `incident-${incident.incident_id}-${state}-${incident.ended_at ?? incident.expires_at}`,
      });
    } catch (error) {
      // The store holds the state; pollers still see it. A lost broadcast only delays push subscribers.
      this.options.logger.error({ err: error, tenant_id: tenant }, 'incident mode change stored but not broadcast on the bus');
    }
  }

  private track(work: Promise<unknown>): void {
    const p = work.finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Writes the automatic capture and records it on the incident. Failures are logged, never thrown. */
  private async captureInto(incident: IncidentRecord, phase: 'start' | 'stop', fromMs: number, toMs: number): Promise<void> {
    const { capture, store, config, logger } = this.options;
    try {
      const plan = await capture.plan(incident.tenant, { fromMs, toMs });
      const file = join(config.dataDir, 'telemetry', 'captures', incident.tenant, `incident-${incident.incident_id}-${phase}.tar.gz`);
      const { bundle } = await capture.writeFile(plan, file);
      const ref: CaptureRef = {
        file: join('telemetry', 'captures', incident.tenant, `incident-${incident.incident_id}-${phase}.tar.gz`),
        window: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
        manifest_sha256: bundle.manifestDigest,
        items: plan.counts.traces.items + plan.counts.logs.items + plan.counts.metrics.items,
      };
      await store.tenantTransaction(incident.tenant, (tx) =>
        tx.query(`UPDATE incident_modes SET ${phase === 'start' ? 'start_capture' : 'stop_capture'} = $3 WHERE tenant_id = $1 AND incident_id = $2`, [
          incident.tenant,
          incident.incident_id,
          JSON.stringify(ref),
        ]),
      );
    } catch (error) {
      logger.error({ err: error, tenant_id: incident.tenant, error_code: 'capture.failed', details: { incident_id: incident.incident_id, phase } }, 'automatic incident capture failed');
    }
  }
}

/** The retention hold that keeps an incident's telemetry window. */
function holdId(incidentId: string): string {
  return `incident-${incidentId}`;
}

/** The `audit.incident.*` event of a change of mode. */
function auditInput(kind: string, incident: IncidentRecord, actor: string): Omit<TimelineEventInput, 'tenant_id'> {
  return {
    kind,
    actor,
    resource_type: 'incident_mode',
    resource_id: incident.incident_id,
    details: {
      service: incident.service,
      reason: incident.reason,
      trigger: incident.trigger,
      started_at: incident.started_at,
      expires_at: incident.expires_at,
      ended_at: incident.ended_at,
      end_reason: incident.end_reason,
    },
  };
}
