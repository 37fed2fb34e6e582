/**
 * excitator: VEX reconcile. Each finding gets the status an OpenVEX statement gives it for
 * the exact product (purl) — statements are linked to findings, never merged into them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { currentContext, startJourney, withSpan } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import { validateOpenVex, type VexStatus } from '../formats/openvex.js';
import type { Finding } from './conseiller.js';
import { canonicalDigest, sha256 } from './digest.js';
import type { WorkloadRuntime } from './service-host.js';

export interface ReconciledFinding extends Finding {
  vex_status: VexStatus | 'none';
  vex_justification: string | null;
}

const VEX_SOURCE = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function registerExcitator(app: FastifyInstance, rt: WorkloadRuntime): void {
  /** A VEX document exactly as published (for evidence snapshots). */
  app.get<{ Params: { vex_source: string } }>('/vex/documents/:vex_source', async (request, reply) => {
    const { vex_source } = request.params;
    if (!VEX_SOURCE.test(vex_source)) throw new WorkloadError('request.invalid', 'vex_source must be lower-case letters, digits and "-"', { field: 'params.vex_source' });
    try {
      const raw = await readFile(join(rt.config.fixturesDir, 'vex', `${vex_source}.openvex.json`), 'utf8');
      return reply.header('content-type', 'application/json').header('x-content-digest', sha256(raw)).send(raw);
    } catch {
      throw new WorkloadError('vex.invalid', `no VEX document "${vex_source}"`, { field: 'params.vex_source' });
    }
  });

  app.post<{ Body: { sbom_id?: string; vex_source?: string; findings?: Finding[] } }>('/vex/reconcile', async (request) => {
    const tenant = currentContext().tenant_id!;
    const { sbom_id, vex_source, findings } = request.body ?? {};
    if (typeof sbom_id !== 'string' || typeof vex_source !== 'string' || !VEX_SOURCE.test(vex_source) || !Array.isArray(findings)) {
      throw new WorkloadError('request.invalid', 'body needs sbom_id, vex_source (a VEX document name) and findings', { field: 'body' });
    }
    const journey = startJourney('vex_reconcile', { 'stella.tenant_id': tenant });
    try {
      let raw: string;
      try {
        raw = await readFile(join(rt.config.fixturesDir, 'vex', `${vex_source}.openvex.json`), 'utf8');
      } catch {
        throw new WorkloadError('vex.invalid', `no VEX document "${vex_source}"`, { field: 'body.vex_source' });
      }
      const vexDigest = sha256(raw);
      const result = await withSpan('excitator.reconcile', { 'stella.vex.digest': vexDigest, 'stella.findings': findings.length }, async () => {
        const doc = validateOpenVex(JSON.parse(raw) as unknown);
        return findings.map((f): ReconciledFinding => {
          const s = doc.statements.find((st) => st.vulnerability.name === f.advisory_id && st.products.some((p) => p['@id'] === f.purl));
          return { ...f, vex_status: s?.status ?? 'none', vex_justification: s?.justification ?? null };
        });
      }, { fields: { sbom_id } });
      const counts: Record<string, number> = {};
      for (const f of result) counts[f.vex_status] = (counts[f.vex_status] ?? 0) + 1;
      journey.end('success');
      rt.logger.info({ sbom_id, resource: 'sbom', action: 'vex.reconcile', details: counts }, 'VEX reconciled');
      await rt.stella.emit({ kind: 'vex.reconciled', resource_type: 'sbom', resource_id: sbom_id, details: { vex_source, vex_digest: vexDigest, statuses: counts, findings_digest: canonicalDigest(result) } });
      return { sbom_id, vex_source, vex_digest: vexDigest, findings: result };
    } catch (err) {
      journey.end('failure');
      throw err;
    }
  });
}
