/**
 * conseiller: advisory ingest and link. Advisories are kept exactly as received (bytes and
 * digest) under the Aggregation-Only Contract — never merged, never "cleaned up". A feed with
 * a document that cannot be evaluated is refused whole, naming the document and the field,
 * so nothing half-ingested is left behind.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { currentContext, startJourney, withSpan } from '@stellaops/telemetry-core';
import type { Component } from '../formats/cyclonedx.js';
import { WorkloadError } from '../formats/errors.js';
import { advisorySeverity, fixedVersion, validateOsv, type OsvAdvisory, type Severity } from '../formats/osv.js';
import { parseSemVer, versionInRange } from '../fixtures/semver.js';
import { canonicalDigest, sha256 } from './digest.js';
import { custodySubject } from './sbom-service.js';
import type { WorkloadRuntime } from './service-host.js';
import { TenantStore } from './tenant-store.js';

/** Feeds this deployment subscribes to, by id → fixture directory. */
export const ADVISORY_FEEDS: Readonly<Record<string, string>> = { 'stella-osv': 'advisories/osv', 'partner-osv': 'advisories/malformed' };

interface StoredAdvisory {
  id: string;
  digest: string;
  feed: string;
  raw: string;
  advisory: OsvAdvisory;
}

export interface Finding {
  advisory_id: string;
  advisory_digest: string;
  purl: string;
  severity: Severity;
  fixable: boolean;
  fixed_version: string | null;
}

export function registerConseiller(app: FastifyInstance, rt: WorkloadRuntime): void {
  const advisories = new TenantStore<StoredAdvisory>();

  app.post<{ Body: { feed?: string } }>('/advisories/ingest', async (request) => {
    const tenant = currentContext().tenant_id!;
    const feed = request.body?.feed;
    if (typeof feed !== 'string' || !(feed in ADVISORY_FEEDS)) {
      throw new WorkloadError('request.invalid', `feed must be one of ${Object.keys(ADVISORY_FEEDS).join(', ')}`, { field: 'body.feed' });
    }
    return withSpan('conseiller.ingest', { 'stella.advisory.feed': feed }, async (span) => {
      const dir = join(rt.config.fixturesDir, ADVISORY_FEEDS[feed]!);
      const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
      const batch: StoredAdvisory[] = [];
      for (const file of files) {
        const raw = await readFile(join(dir, file), 'utf8');
        let advisory: OsvAdvisory;
        try {
          advisory = validateOsv(JSON.parse(raw) as unknown);
        } catch (err) {
          const e = err instanceof WorkloadError ? err : new WorkloadError('advisory.malformed', `not JSON: ${(err as Error).message}`, { field: 'document' });
          const documentId = file.replace(/\.json$/, '');
          span.setAttribute('stella.advisory.rejected', documentId);
          await rt.stella.emit({
            kind: 'advisory.rejected',
            resource_type: 'advisory',
            resource_id: documentId,
            details: { feed, document_digest: sha256(raw), error_code: e.code, field: e.field ?? null, reason: e.message },
          });
          throw new WorkloadError('advisory.malformed', `feed ${feed}: advisory ${documentId} refused, nothing from this feed was stored: ${e.message}`, { field: e.field ?? 'document', cause: e });
        }
        batch.push({ id: advisory.id, digest: sha256(raw), feed, raw, advisory });
      }
      for (const a of batch) advisories.set(tenant, a.id, a);
      span.setAttribute('stella.advisory.count', batch.length);
      const feedDigest = canonicalDigest(batch.map((a) => [a.id, a.digest]));
      rt.logger.info({ resource: 'advisory-feed', action: 'ingest', source_id: feed, details: { advisories: batch.length, feed_digest: feedDigest } }, 'advisory feed ingested');
      await rt.stella.emit({ kind: 'advisory.ingested', resource_type: 'advisory_feed', resource_id: feed, details: { advisories: batch.length, feed_digest: feedDigest } });
      return { feed, advisories: batch.length, feed_digest: feedDigest, ids: batch.map((a) => a.id) };
    });
  });

  /** The advisory exactly as it was received. */
  app.get<{ Params: { id: string } }>('/advisories/:id', async (request, reply) => {
    const a = advisories.get(currentContext().tenant_id!, request.params.id);
    if (!a) throw new WorkloadError('advisory.not_found', `no advisory ${request.params.id} in this tenant`, { field: 'params.id' });
    return reply.header('content-type', 'application/json').header('x-content-digest', a.digest).send(a.raw);
  });

  /** Matches the SBOM's components to advisories whose ranges contain their versions (candidate findings). */
  app.post<{ Body: { sbom_id?: string } }>('/advisories/match', async (request) => {
    const tenant = currentContext().tenant_id!;
    const sbomId = request.body?.sbom_id;
    if (typeof sbomId !== 'string') throw new WorkloadError('request.invalid', 'body.sbom_id is required', { field: 'body.sbom_id' });
    const sbom = await rt.call<{ sbom_digest: string; components: Component[] }>('sbom-service', `/sboms/${encodeURIComponent(sbomId)}/components`);
    const findings = await withSpan('conseiller.match', { 'stella.sbom.components': sbom.components.length }, async (span) => {
      const out: Finding[] = [];
      const known = advisories.values(tenant);
      for (const c of sbom.components) {
        const v = parseSemVer(c.version);
        if (!v) continue;
        for (const { advisory, digest } of known) {
          for (const af of advisory.affected) {
            if (af.package.ecosystem.toLowerCase() !== c.ecosystem || af.package.name !== c.name) continue;
            const hit = (af.versions ?? []).includes(c.version) || (af.ranges ?? []).some((r) => versionInRange(v, r.events));
            if (!hit) continue;
            const fixed = fixedVersion(af);
            out.push({ advisory_id: advisory.id, advisory_digest: digest, purl: c.purl, severity: advisorySeverity(advisory), fixable: fixed !== undefined, fixed_version: fixed ?? null });
          }
        }
      }
      out.sort((a, b) => (a.advisory_id === b.advisory_id ? (a.purl < b.purl ? -1 : 1) : a.advisory_id < b.advisory_id ? -1 : 1));
      span.setAttribute('stella.findings', out.length);
      return out;
    }, { fields: { sbom_id: sbomId } });
    const findingsDigest = canonicalDigest(findings);
    rt.logger.info({ sbom_id: sbomId, resource: 'sbom', action: 'advisory.match', details: { findings: findings.length } }, 'advisories matched');
    await rt.stella.emit({
      kind: 'advisory.matched',
      resource_type: 'sbom',
      resource_id: sbomId,
      details: { sbom_digest: sbom.sbom_digest, advisories_considered: advisories.values(tenant).length, findings: findings.length, findings_digest: findingsDigest },
    });
    return { sbom_id: sbomId, findings, findings_digest: findingsDigest };
  });

  /**
   * Advisory link: records which advisory versions (by digest) are linked to which components
   * in an evaluation, with the exposure the policy left open, and the delta against the
   * previous linkset of the same SBOM (SLO-1 "advisory link to exposure delta").
   */
  const linksets = new TenantStore<{ exposed: Set<string> }>();
  app.post<{ Body: { sbom_id?: string; evaluation_id?: string; decisions_digest?: string; decisions?: { advisory_id: string; purl: string; effect: string }[]; findings?: Finding[] } }>('/advisories/link', async (request) => {
    const tenant = currentContext().tenant_id!;
    const { sbom_id, evaluation_id, decisions_digest, decisions, findings } = request.body ?? {};
    if (typeof sbom_id !== 'string' || typeof evaluation_id !== 'string' || typeof decisions_digest !== 'string' || !Array.isArray(decisions) || !Array.isArray(findings)) {
      throw new WorkloadError('request.invalid', 'body needs sbom_id, evaluation_id, decisions_digest, decisions and findings', { field: 'body' });
    }
    const journey = startJourney('advisory_link', { 'stella.tenant_id': tenant });
    try {
      const result = withSpan('conseiller.link', { 'stella.findings': findings.length }, (span) => {
        const effect = new Map(decisions.map((d) => [`${d.advisory_id}|${d.purl}`, d.effect]));
        const links = findings
          .map((f) => ({ advisory_id: f.advisory_id, advisory_digest: f.advisory_digest, purl: f.purl, effect: effect.get(`${f.advisory_id}|${f.purl}`) ?? 'none' }))
          .sort((a, b) => (`${a.advisory_id}|${a.purl}` < `${b.advisory_id}|${b.purl}` ? -1 : 1));
        const exposed = new Set(links.filter((l) => l.effect === 'deny' || l.effect === 'warn').map((l) => `${l.advisory_id}|${l.purl}`));
        const previous = linksets.get(tenant, sbom_id)?.exposed ?? new Set<string>();
        const delta = { added: [...exposed].filter((k) => !previous.has(k)).length, removed: [...previous].filter((k) => !exposed.has(k)).length };
        linksets.set(tenant, sbom_id, { exposed });
        span.setAttribute('stella.exposure', exposed.size);
        return { links, exposure: exposed.size, delta, linkset_digest: canonicalDigest({ evaluation_id, links }) };
      }, { fields: { sbom_id } });
      journey.end('success');
      rt.logger.info({ sbom_id, resource: 'sbom', action: 'advisory.link', details: { links: result.links.length, exposure: result.exposure, delta: result.delta } }, 'advisories linked');
      await rt.stella.emit({
        kind: 'advisory.linked',
        resource_type: 'sbom',
        resource_id: sbom_id,
        details: {
          evaluation_id,
          links: result.links.length,
          exposure: result.exposure,
          exposure_delta: result.delta,
          linkset_digest: result.linkset_digest,
          advisory_digests: [...new Set(result.links.map((l) => `${l.advisory_id}=${l.advisory_digest}`))],
          custody: { step: 'advisory.link', subject: custodySubject(sbom_id), input_digest: decisions_digest, output_digest: result.linkset_digest },
        },
      });
      return { sbom_id, evaluation_id, ...result };
    } catch (err) {
      journey.end('failure');
      throw err;
    }
  });
}
