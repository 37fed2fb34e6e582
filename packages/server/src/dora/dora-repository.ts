/**
 * The one owner of `dora_deployments` and `dora_incidents`: every read and write, each in its
 * tenant's transaction (row-level security), the tenant registered with its first record.
 */
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { ensureTenant } from '../store/tenants.js';
import type { DeploymentOutcome, DeploymentRecord, IncidentRecord, IncidentSeverity } from './dora-records.js';

interface DeploymentRow {
  deployment_id: string;
  service: string;
  environment: string;
  pipeline: string;
  commit_time: Date | string;
  deploy_time: Date | string;
  outcome: string;
}

interface IncidentRow {
  incident_id: string;
  environment: string;
  service: string | null;
  severity: string;
  started_at: Date | string;
  acknowledged_at: Date | string | null;
  resolved_at: Date | string | null;
}

const iso = (v: Date | string): string => new Date(v).toISOString();
const isoOrNull = (v: Date | string | null): string | null => (v === null ? null : iso(v));

const DEPLOYMENT_COLUMNS = 'deployment_id, service, environment, pipeline, commit_time, deploy_time, outcome';
const INCIDENT_COLUMNS = 'incident_id, environment, service, severity, started_at, acknowledged_at, resolved_at';

function toDeploymentRecord(r: DeploymentRow): DeploymentRecord {
  return { deployment_id: r.deployment_id, service: r.service, environment: r.environment, pipeline: r.pipeline, commit_time: iso(r.commit_time), deploy_time: iso(r.deploy_time), outcome: r.outcome as DeploymentOutcome };
}

function toIncidentRecord(r: IncidentRow): IncidentRecord {
  return {
    incident_id: r.incident_id,
    environment: r.environment,
    service: r.service,
    severity: r.severity as IncidentSeverity,
    started_at: iso(r.started_at),
    acknowledged_at: isoOrNull(r.acknowledged_at),
    resolved_at: isoOrNull(r.resolved_at),
  };
}

export interface WindowFilter {
  environment?: string | undefined;
  fromMs: number;
  toMs: number;
  /** Rows read at most; one more tells the caller the window holds too many. */
  limit: number;
}

export class DoraRepository {
  constructor(private readonly store: SqlStore) {}

  /** Inserts a deployment unless one of its id exists; answers whether it was inserted, and the record stored under the id. */
  async insertDeployment(tenant: string, d: DeploymentRecord): Promise<{ created: boolean; stored: DeploymentRecord }> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      await ensureTenant(tx, tenant);
      const inserted = await tx.query<DeploymentRow>(
        `INSERT INTO dora_deployments (tenant_id, deployment_id, service, environment, pipeline, commit_time, deploy_time, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, deployment_id) DO NOTHING RETURNING ${DEPLOYMENT_COLUMNS}`,
        [tenant, d.deployment_id, d.service, d.environment, d.pipeline, d.commit_time, d.deploy_time, d.outcome],
      );
      if (inserted.rows[0]) return { created: true, stored: toDeploymentRecord(inserted.rows[0]) };
      const { rows } = await tx.query<DeploymentRow>(`SELECT ${DEPLOYMENT_COLUMNS} FROM dora_deployments WHERE tenant_id = $1 AND deployment_id = $2`, [tenant, d.deployment_id]);
      return { created: false, stored: toDeploymentRecord(rows[0]!) };
    });
  }

  /** Creates or replaces an incident; answers the state before (undefined when new). */
  async upsertIncident(tenant: string, i: IncidentRecord): Promise<{ previous: IncidentRecord | undefined; stored: IncidentRecord }> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      await ensureTenant(tx, tenant);
      const before = await tx.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM dora_incidents WHERE tenant_id = $1 AND incident_id = $2 FOR UPDATE`, [tenant, i.incident_id]);
      const { rows } = await tx.query<IncidentRow>(
        `INSERT INTO dora_incidents (tenant_id, incident_id, environment, service, severity, started_at, acknowledged_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant_id, incident_id) DO UPDATE SET environment = EXCLUDED.environment, service = EXCLUDED.service, severity = EXCLUDED.severity,
           started_at = EXCLUDED.started_at, acknowledged_at = EXCLUDED.acknowledged_at, resolved_at = EXCLUDED.resolved_at, updated_at = now()
         RETURNING ${INCIDENT_COLUMNS}`,
        [tenant, i.incident_id, i.environment, i.service, i.severity, i.started_at, i.acknowledged_at, i.resolved_at],
      );
      return { previous: before.rows[0] ? toIncidentRecord(before.rows[0]) : undefined, stored: toIncidentRecord(rows[0]!) };
    });
  }

  /** Deployments whose deploy_time falls in [from, to), in deploy order. */
  async deployments(tenant: string, f: WindowFilter): Promise<DeploymentRecord[]> {
    return this.store.tenantTransaction(tenant, (tx) => this.select(tx, 'dora_deployments', 'deploy_time', DEPLOYMENT_COLUMNS, tenant, f)).then((rows) => rows.map((r) => toDeploymentRecord(r as unknown as DeploymentRow)));
  }

  /** Incidents whose started_at falls in [from, to), in start order. */
  async incidents(tenant: string, f: WindowFilter): Promise<IncidentRecord[]> {
    return this.store.tenantTransaction(tenant, (tx) => this.select(tx, 'dora_incidents', 'started_at', INCIDENT_COLUMNS, tenant, f)).then((rows) => rows.map((r) => toIncidentRecord(r as unknown as IncidentRow)));
  }

  /** Per environment, deployments and failures since `fromMs` (the trailing window of the gauges). */
  async recentByEnvironment(tenant: string, fromMs: number, toMs: number): Promise<{ environment: string; deployments: number; failures: number }[]> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      const { rows } = await tx.query<{ environment: string; deployments: number | string; failures: number | string }>(
        `SELECT environment, count(*) AS deployments, count(*) FILTER (WHERE outcome <> 'success') AS failures
           FROM dora_deployments WHERE tenant_id = $1 AND deploy_time >= $2 AND deploy_time < $3
          GROUP BY environment ORDER BY environment COLLATE "C"`,
        [tenant, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
      );
      return rows.map((r) => ({ environment: r.environment, deployments: Number(r.deployments), failures: Number(r.failures) }));
    });
  }

  /** Every registered tenant (the tenants list is readable without a tenant). */
  async tenants(): Promise<string[]> {
    return this.store.tenantTransaction(null, async (tx) => (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id COLLATE "C"')).rows.map((r) => r.tenant_id));
  }

  private async select(tx: SqlTx, table: string, timeColumn: string, columns: string, tenant: string, f: WindowFilter): Promise<Record<string, unknown>[]> {
    const params: unknown[] = [tenant, new Date(f.fromMs).toISOString(), new Date(f.toMs).toISOString()];
    let where = `tenant_id = $1 AND ${timeColumn} >= $2 AND ${timeColumn} < $3`;
    if (f.environment !== undefined) {
      params.push(f.environment);
      where += ` AND environment = $${params.length}`;
    }
    params.push(f.limit + 1);
    const { rows } = await tx.query(`SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY ${timeColumn}, ${table === 'dora_deployments' ? 'deployment_id' : 'incident_id'} COLLATE "C" LIMIT $${params.length}`, params);
    return rows;
  }
}
