/**
 * What protects a tenant's data from pruning right now, read in one tenant transaction: cases
 * under legal hold (and their bundles), incident retention windows, and an evidence retention
 * extension. Tables of features that are not installed count as empty, so a service without
 * the evidence locker or the telemetry store prunes with the protections it has.
 */
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { retentionHolds } from '../segments/retention-holds.js';

export interface HeldCase {
  case_id: string;
  reason: string;
  placed_at: string;
}

export interface IncidentWindow {
  hold_id: string;
  from_ms: number;
  to_ms: number;
  reason: string;
}

export interface TenantProtections {
  heldCases: HeldCase[];
  /** Bundles filed under a held case. */
  heldBundleIds: string[];
  /** `<resource_type>/<resource_id>` of what the held bundles are about. */
  heldSubjects: string[];
  incidentWindows: IncidentWindow[];
  /** Evidence retention extended by incident mode until this instant (ms), if any. */
  evidenceExtendedUntil: number | undefined;
  /** Whether the evidence tables exist (the evidence feature is installed). */
  evidence: boolean;
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

/** Which of `names` exist as tables, by name. */
export async function existingTables(tx: SqlTx, names: readonly string[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ name: string; present: boolean }>(
    'SELECT n AS name, to_regclass(n) IS NOT NULL AS present FROM unnest($1::text[]) AS n',
    [[...names]],
  );
  return new Set(rows.filter((r) => r.present).map((r) => r.name));
}

export async function readProtections(tx: SqlTx, tenant: string): Promise<TenantProtections> {
  const tables = await existingTables(tx, ['evidence_holds', 'evidence_settings']);
  const out: TenantProtections = { heldCases: [], heldBundleIds: [], heldSubjects: [], incidentWindows: [], evidenceExtendedUntil: undefined, evidence: tables.has('evidence_holds') };
  if (tables.has('evidence_holds')) {
    const holds = await tx.query<{ case_id: string; reason: string; placed_at: unknown }>('SELECT case_id, reason, placed_at FROM evidence_holds WHERE tenant_id = $1 ORDER BY case_id', [tenant]);
    out.heldCases = holds.rows.map((r) => ({ case_id: r.case_id, reason: r.reason, placed_at: iso(r.placed_at) }));
    if (out.heldCases.length > 0) {
      const bundles = await tx.query<{ id: string; resource_type: string | null; resource_id: string | null }>(
        'SELECT id, resource_type, resource_id FROM evidence_bundles WHERE tenant_id = $1 AND case_id = ANY($2::text[])',
        [tenant, out.heldCases.map((c) => c.case_id)],
      );
      out.heldBundleIds = bundles.rows.map((r) => r.id);
      out.heldSubjects = [...new Set(bundles.rows.filter((r) => r.resource_type && r.resource_id).map((r) => `${r.resource_type}/${r.resource_id}`))];
    }
  }
  if (tables.has('evidence_settings')) {
    const s = await tx.query<{ extended_until: unknown }>('SELECT extended_until FROM evidence_settings WHERE tenant_id = $1', [tenant]);
    const until = s.rows[0]?.extended_until;
    if (until) out.evidenceExtendedUntil = Date.parse(iso(until));
  }
  out.incidentWindows = await retentionHolds(tx, tenant);
  return out;
}

export function loadProtections(store: SqlStore, tenant: string): Promise<TenantProtections> {
  return store.tenantTransaction(tenant, (tx) => readProtections(tx, tenant));
}

/** The incident window covering `[fromMs, toMs)`, if any. */
export function windowOverlapping(p: TenantProtections, fromMs: number, toMs: number): IncidentWindow | undefined {
  return p.incidentWindows.find((w) => w.from_ms < toMs && w.to_ms >= fromMs);
}

/** A short account of the protections for an audit event (bounded). */
export function describeProtections(p: TenantProtections): Record<string, unknown> {
  return {
    legal_holds: p.heldCases.slice(0, 50).map((c) => ({ case_id: c.case_id, reason: c.reason, placed_at: c.placed_at })),
    incident_windows: p.incidentWindows.slice(0, 50).map((w) => ({ hold_id: w.hold_id, from: new Date(w.from_ms).toISOString(), to: new Date(w.to_ms).toISOString() })),
    ...(p.evidenceExtendedUntil !== undefined ? { evidence_extended_until: new Date(p.evidenceExtendedUntil).toISOString() } : {}),
  };
}
