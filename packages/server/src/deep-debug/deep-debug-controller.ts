/**
 * Deep debug for the service (CORE-2, AUTH-4): a tenant's grant — e-mail and path redaction
 * relaxed for that tenant only, secrets never — is a row in the store, so it survives a restart
 * and every replica agrees on it. Every change commits with its `audit.deep_debug.*` timeline
 * event (who, why, until when), then the tenant's complete state is broadcast on
 * `<prefix>.<tenant>.deep_debug.grant`, which every process following it (telemetry-core's
 * deep-debug sources, this service included) applies to its own loggers. A grant ends at its
 * TTL through `expire`, which the TTL job runs on the injectable clock; the conditional update
 * makes each expiry happen, and be audited, once whichever replica runs it.
 */
import {
  deepDebugSubject,
  uuidv7,
  type Bus,
  type DeepDebugChange,
  type DeepDebugGrantEntry,
  type DeepDebugState,
  type Logger,
  type TimelineEventInput,
} from '@stellaops/telemetry-core';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { ensureTenant } from '../store/tenants.js';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import type { AuditTrail, AuditWrite } from '../timeline/audit-trail.js';

/** A grant as the API shows it: in force (`ended_at` null) or ended. */
export interface DeepDebugRecord extends DeepDebugGrantEntry {
  ended_at: string | null;
  end_reason: 'off' | 'ttl' | 'replaced' | null;
  ended_by: string | null;
  /** Why it was switched off, when the operator said. */
  off_reason: string | null;
}

export interface DeepDebugControllerOptions {
  config: ServiceConfig;
  store: SqlStore;
  bus: Bus;
  audit: AuditTrail;
  logger: Logger;
  clock: () => number;
}

interface Row {
  tenant_id: string;
  grant_id: string;
  actor: string;
  reason: string;
  enabled_at: Date | string;
  expires_at: Date | string;
  ended_at: Date | string | null;
  end_reason: 'off' | 'ttl' | 'replaced' | null;
  ended_by: string | null;
  off_reason: string | null;
}

const COLUMNS = 'tenant_id, grant_id, actor, reason, enabled_at, expires_at, ended_at, end_reason, ended_by, off_reason';
const iso = (v: Date | string): string => new Date(v).toISOString();
/** Who ends a grant at its TTL. */
export const TTL_ACTOR = 'system:ttl';

function toRecord(r: Row): DeepDebugRecord {
  return {
    grant_id: r.grant_id,
    tenant: r.tenant_id,
    actor: r.actor,
    reason: r.reason,
    enabled_at: iso(r.enabled_at),
    expires_at: iso(r.expires_at),
    ended_at: r.ended_at === null ? null : iso(r.ended_at),
    end_reason: r.end_reason,
    ended_by: r.ended_by,
    off_reason: r.off_reason,
  };
}

function entry(r: DeepDebugRecord): DeepDebugGrantEntry {
  return { grant_id: r.grant_id, tenant: r.tenant, actor: r.actor, reason: r.reason, enabled_at: r.enabled_at, expires_at: r.expires_at };
}

/** The `audit.deep_debug.*` event of a change. */
function auditInput(kind: 'on' | 'off' | 'expired', grant: DeepDebugRecord, actor: string, extra: Record<string, unknown> = {}): Omit<TimelineEventInput, 'tenant_id'> {
  return {
    kind: `audit.deep_debug.${kind}`,
    actor,
    resource_type: 'deep_debug',
    resource_id: grant.grant_id,
    details: {
      reason: grant.reason,
      granted_by: grant.actor,
      enabled_at: grant.enabled_at,
      expires_at: grant.expires_at,
      ended_at: grant.ended_at,
      end_reason: grant.end_reason,
      off_reason: grant.off_reason,
      relaxes: ['email', 'path'],
      ...extra,
    },
  };
}

export interface DeepDebugStatus {
  tenant: string;
  state: 'on' | 'off';
  /** The grant in force (none or one). */
  grants: DeepDebugGrantEntry[];
  /** The tenant's latest ended grants, newest first. */
  recent: DeepDebugRecord[];
}

export class DeepDebugController {
  constructor(private readonly options: DeepDebugControllerOptions) {}

  /** The tenant's grant in force and its recent ended grants. */
  async status(tenant: string, limit = 10): Promise<DeepDebugStatus> {
    const now = this.options.clock();
    const rows = await this.options.store.tenantTransaction(tenant, (tx) =>
      tx.query<Row>(`SELECT ${COLUMNS} FROM deep_debug_grants WHERE tenant_id = $1 ORDER BY enabled_at DESC, grant_id DESC LIMIT $2`, [tenant, limit + 1]),
    );
    const records = rows.rows.map(toRecord).map((r) => lapsed(r, now));
    const active = records.filter((r) => r.ended_at === null);
    return { tenant, state: active.length > 0 ? 'on' : 'off', grants: active.map(entry), recent: records.filter((r) => r.ended_at !== null).slice(0, limit) };
  }

  /** Every tenant's grant in force, as states the service's own follower starts from. */
  async activeStates(): Promise<DeepDebugState[]> {
    const states: DeepDebugState[] = [];
    for (const tenant of await this.tenants()) {
      const { grants } = await this.status(tenant, 0);
      const grant = grants[0];
      if (grant) states.push({ tenant, grant, change: { state: 'on', grant_id: grant.grant_id, actor: grant.actor, at: grant.enabled_at } });
    }
    return states;
  }

  /**
   * Switches deep debug on for `tenant` until `now + ttlMs`. A grant already in force is
   * replaced (ended as `replaced`): each grant keeps the actor, reason and expiry it was given.
   */
  async on(input: { tenant: string; ttlMs: number; reason: string; actor: string }): Promise<{ grant: DeepDebugRecord; replaced: DeepDebugRecord | null }> {
    const now = this.options.clock();
    const result = await this.options.audit.record(input.tenant, async (tx, audit) => {
      await ensureTenant(tx, input.tenant);
      await this.expireIn(tx, input.tenant, now, audit);
      const previous = await tx.query<Row>(
        `UPDATE deep_debug_grants SET ended_at = $2, end_reason = 'replaced', ended_by = $3 WHERE tenant_id = $1 AND ended_at IS NULL RETURNING ${COLUMNS}`,
        [input.tenant, new Date(now), input.actor],
      );
      const inserted = await tx.query<Row>(
        `INSERT INTO deep_debug_grants (tenant_id, grant_id, actor, reason, enabled_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [input.tenant, uuidv7(now), input.actor, input.reason, new Date(now), new Date(now + input.ttlMs)],
      );
      const grant = toRecord(inserted.rows[0]!);
      const replaced = previous.rows[0] ? toRecord(previous.rows[0]) : null;
      await audit(auditInput('on', grant, input.actor, { ttl_seconds: Math.round(input.ttlMs / 1000), replaces: replaced?.grant_id ?? null }));
      return { grant, replaced };
    });
    await this.broadcast(input.tenant, { state: 'on', grant_id: result.grant.grant_id, actor: input.actor, at: new Date(now).toISOString() });
    return result;
  }

  /** Switches the tenant's deep debug off; `deepdebug.not_active` when none is in force. */
  async off(input: { tenant: string; actor: string; reason?: string | undefined }): Promise<DeepDebugRecord> {
    const now = this.options.clock();
    const { ended, expired } = await this.options.audit.record(input.tenant, async (tx, audit) => {
      const lapsedNow = await this.expireIn(tx, input.tenant, now, audit);
      const updated = await tx.query<Row>(
        `UPDATE deep_debug_grants SET ended_at = $2, end_reason = 'off', ended_by = $3, off_reason = $4 WHERE tenant_id = $1 AND ended_at IS NULL RETURNING ${COLUMNS}`,
        [input.tenant, new Date(now), input.actor, input.reason ?? null],
      );
      const row = updated.rows[0] ? toRecord(updated.rows[0]) : undefined;
      if (row) await audit(auditInput('off', row, input.actor));
      return { ended: row, expired: lapsedNow };
    });
    // A grant that had lapsed but was not yet ended by the job is ended (and audited) now.
    for (const g of expired) await this.broadcast(input.tenant, { state: 'expired', grant_id: g.grant_id, actor: TTL_ACTOR, at: g.expires_at });
    if (!ended) throw new ServiceError('deepdebug.not_active', `deep debug is not on for tenant "${input.tenant}"`, { extra: { tenant: input.tenant } });
    await this.broadcast(input.tenant, { state: 'off', grant_id: ended.grant_id, actor: input.actor, at: new Date(now).toISOString() });
    return ended;
  }

  /** Ends every grant whose TTL has passed, each audited once; returns what it ended. */
  async expire(): Promise<DeepDebugRecord[]> {
    const now = this.options.clock();
    const ended: DeepDebugRecord[] = [];
    for (const tenant of await this.tenants()) {
      const expired = await this.options.audit.record(tenant, (tx, audit) => this.expireIn(tx, tenant, now, audit));
      for (const g of expired) {
        await this.broadcast(tenant, { state: 'expired', grant_id: g.grant_id, actor: TTL_ACTOR, at: g.expires_at });
        ended.push(g);
      }
    }
    return ended;
  }

  private async tenants(): Promise<string[]> {
    const rows = await this.options.store.tenantTransaction(null, (tx) => tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id'));
    return rows.rows.map((r) => r.tenant_id);
  }

  /** Ends the tenant's grant whose TTL passed by `now`, with its audit event, in `tx`. */
  private async expireIn(tx: SqlTx, tenant: string, now: number, audit: AuditWrite): Promise<DeepDebugRecord[]> {
    const updated = await tx.query<Row>(
      `UPDATE deep_debug_grants SET ended_at = expires_at, end_reason = 'ttl', ended_by = $3
        WHERE tenant_id = $1 AND ended_at IS NULL AND expires_at <= $2 RETURNING ${COLUMNS}`,
      [tenant, new Date(now), TTL_ACTOR],
    );
    const records = updated.rows.map(toRecord);
    for (const r of records) await audit(auditInput('expired', r, TTL_ACTOR));
    return records;
  }

  /** Publishes the tenant's complete state after `change`; the store holds it if the bus is down. */
  private async broadcast(tenant: string, change: DeepDebugChange): Promise<void> {
    const { grants } = await this.status(tenant, 0);
    const state: DeepDebugState = { tenant, grant: grants[0] ?? null, change };
    try {
      await this.options.bus.publish(deepDebugSubject(tenant, this.options.config.subjectPrefix), Buffer.from(JSON.stringify(state)), {
        msgId: `deep-debug-${change.grant_id}-${change.state}`,
      });
    } catch (error) {
      // Pollers still see the stored state, and an applied grant still lapses at its expiry.
      this.options.logger.error({ err: error, tenant_id: tenant, details: { grant_id: change.grant_id, change: change.state } }, 'deep-debug change stored but not broadcast on the bus');
    }
  }
}

/** A grant past its expiry that the TTL job has not ended yet is shown as the job will end it. */
function lapsed(r: DeepDebugRecord, now: number): DeepDebugRecord {
  if (r.ended_at !== null || Date.parse(r.expires_at) > now) return r;
  return { ...r, ended_at: r.expires_at, end_reason: 'ttl', ended_by: TTL_ACTOR };
}
