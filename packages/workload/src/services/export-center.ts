/**
 * export-center: writes the findings report of an evaluation as one deterministic JSON
 * document (RFC 8785, the forensics library's jcs; timestamps from its inputs) and records its
 * digest, so the report can be re-derived and compared byte for byte.
 */
import type { FastifyInstance } from 'fastify';
import { exportProvenance, jcs } from '@stellaops/forensics';
import { currentContext, startJourney, withSpan } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import { sha256 } from './digest.js';
import type { ReconciledFinding } from './excitator.js';
import type { Decision } from './policy-engine.js';
import { custodySubject } from './sbom-service.js';
import { WORKLOAD_VERSION, type WorkloadRuntime } from './service-host.js';
import { TenantStore } from './tenant-store.js';

export interface ExportRequest {
  sbom_id: string;
  sbom_digest: string;
  evaluation: { evaluation_id: string; policy_version: string; policy_digest: string; verdict: string; decisions_digest: string; decisions: Decision[] };
  findings: ReconciledFinding[];
  /** Digests of every input, for the report's provenance section. */
  inputs: Record<string, string>;
  /** The advisory linkset the report is written from (its input in the chain of custody). */
  linkset_digest: string;
}

interface StoredExport {
  export_id: string;
  digest: string;
  report: string;
}

export function registerExportCenter(app: FastifyInstance, rt: WorkloadRuntime): void {
  const exportsStore = new TenantStore<StoredExport>();

  app.post<{ Body: ExportRequest }>('/exports', async (request, reply) => {
    const tenant = currentContext().tenant_id!;
    const body = request.body;
    if (!body || typeof body.sbom_id !== 'string' || typeof body.linkset_digest !== 'string' || !body.evaluation || !Array.isArray(body.findings)) {
      throw new WorkloadError('request.invalid', 'body needs sbom_id, linkset_digest, evaluation and findings', { field: 'body' });
    }
    const journey = startJourney('export_bundle', { 'stella.tenant_id': tenant });
    try {
      const stored = withSpan('export.bundle', { 'stella.findings': body.findings.length }, () => {
        const decisionsBy = new Map(body.evaluation.decisions.map((d) => [`${d.advisory_id}|${d.purl}`, d]));
        const report = jcs({
          format: 'stella.findings-report/v1',
          tenant_id: tenant,
          sbom: { sbom_id: body.sbom_id, digest: body.sbom_digest },
          evaluation: { evaluation_id: body.evaluation.evaluation_id, policy_version: body.evaluation.policy_version, policy_digest: body.evaluation.policy_digest, verdict: body.evaluation.verdict, decisions_digest: body.evaluation.decisions_digest },
          inputs: { ...body.inputs, linkset: body.linkset_digest },
          findings: body.findings.map((f) => {
            const d = decisionsBy.get(`${f.advisory_id}|${f.purl}`);
            return { ...f, rule_id: d?.rule_id ?? null, effect: d?.effect ?? null, reason: d?.reason ?? null };
          }),
        });
        const digest = sha256(report);
        return { export_id: `export-${digest.slice(7, 23)}`, digest, report };
      }, { fields: { sbom_id: body.sbom_id } });
      exportsStore.set(tenant, stored.export_id, stored);
      let attestationId: string | undefined;
      if (rt.config.features.evidence) await rt.stella.attach({ type: 'export', id: stored.export_id }, 'export-file', 'findings-report.json', stored.report);
      if (rt.config.features.attestations) {
        const statement = exportProvenance({
          exportId: stored.export_id,
          builderId: `https://stellaops.example/builders/export-center@${WORKLOAD_VERSION}`,
          files: [{ name: 'findings-report.json', digest: { sha256: stored.digest.slice(7) } }],
          sources: [{ name: body.sbom_id, digest: { sha256: body.sbom_digest.slice(7) } }],
          policies: [{ name: body.evaluation.policy_version, digest: { sha256: body.evaluation.policy_digest.slice(7) } }],
          parameters: { evaluation_id: body.evaluation.evaluation_id, linkset: body.linkset_digest },
          finishedOn: new Date(),
        });
        attestationId = await rt.stella.attest(stored.export_id, statement, { type: 'export', id: stored.export_id });
      }
      journey.end('success');
      rt.logger.info({ sbom_id: body.sbom_id, resource: 'export', action: 'export.write', details: { export_id: stored.export_id, bytes: stored.report.length } }, 'findings report exported');
      await rt.stella.emit({
        kind: 'export.completed',
        resource_type: 'export',
        resource_id: stored.export_id,
        details: {
          export_digest: stored.digest,
          bytes: Buffer.byteLength(stored.report),
          sbom_id: body.sbom_id,
          evaluation_id: body.evaluation.evaluation_id,
          format: 'stella.findings-report/v1',
          custody: { step: 'export', subject: custodySubject(body.sbom_id), input_digest: body.linkset_digest, output_digest: stored.digest, ...(attestationId ? { attestation_id: attestationId } : {}) },
        },
      });
      return reply.code(201).send({ export_id: stored.export_id, export_digest: stored.digest, bytes: Buffer.byteLength(stored.report), attestation_id: attestationId ?? null });
    } catch (err) {
      journey.end('failure');
      throw err;
    }
  });

  app.get<{ Params: { export_id: string } }>('/exports/:export_id', async (request, reply) => {
    const e = exportsStore.get(currentContext().tenant_id!, request.params.export_id);
    if (!e) throw new WorkloadError('export.not_found', `no export ${request.params.export_id} in this tenant`, { field: 'params.export_id' });
    return reply.header('content-type', 'application/json').header('x-content-digest', e.digest).send(e.report);
  });
}
