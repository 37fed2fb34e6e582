/**
 * sbom-service: source fetch (the SBOM as published, with its digest) and SBOM ingest
 * (parse CycloneDX, compute components). The SBOM id derives from the document digest, so
 * the same document always gets the same immutable id.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { currentContext, startJourney, withSpan } from '@stellaops/telemetry-core';
import { readCycloneDx, type Component } from '../formats/cyclonedx.js';
import { WorkloadError } from '../formats/errors.js';
import { canonicalDigest, sha256 } from './digest.js';
import type { WorkloadRuntime } from './service-host.js';
import { TenantStore } from './tenant-store.js';

export interface SbomRecord {
  sbom_id: string;
  sbom_digest: string;
  /** Digest of the computed component list (the output of "SBOM compute" in the chain of custody). */
  components_digest: string;
  source_id: string;
  source_digest: string;
  application: { name: string; version: string; purl: string | undefined };
  components: Component[];
  components_without_purl: number;
}

const SOURCE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The SBOM id follows from the document digest, so it is known — and immutable — from the fetch on. */
export function sbomIdFor(documentDigest: string): string {
  return `sbom-${documentDigest.slice(7, 23)}`;
}

/** The chain-of-custody subject of an SBOM (TL-5): every step names it. */
export function custodySubject(sbomId: string): string {
  return `sbom/${sbomId}`;
}

export function registerSbomService(app: FastifyInstance, rt: WorkloadRuntime): void {
  const sboms = new TenantStore<SbomRecord>();

  /** Source fetch: the SBOM bytes as published by the build, never altered. */
  app.get<{ Params: { source_id: string } }>('/sources/:source_id', async (request) => {
    const { source_id } = request.params;
    if (!SOURCE_ID.test(source_id)) throw new WorkloadError('request.invalid', 'source_id must be lower-case letters, digits and "-"', { field: 'params.source_id' });
    let bytes: Buffer;
    try {
      bytes = await readFile(join(rt.config.fixturesDir, 'sbom', `${source_id}.cdx.json`));
    } catch {
      throw new WorkloadError('sbom.not_found', `no SBOM source "${source_id}"`, { field: 'params.source_id' });
    }
    const digest = sha256(bytes);
    await rt.stella.emit({
      kind: 'source.fetched',
      resource_type: 'source',
      resource_id: source_id,
      details: { source_digest: digest, bytes: bytes.length, media_type: 'application/vnd.cyclonedx+json', custody: { step: 'source.fetch', subject: custodySubject(sbomIdFor(digest)), output_digest: digest } },
    });
    rt.logger.info({ source_id, resource: 'source', action: 'fetch', details: { digest } }, 'source fetched');
    return { source_id, source_digest: digest, document: bytes.toString('utf8') };
  });

  /** SBOM ingest: parses the document exactly as fetched (the digest must match the source's). */
  app.post<{ Body: { source_id?: string; source_digest?: string; document?: string } }>('/sboms', async (request, reply) => {
    const tenant = currentContext().tenant_id!;
    const { source_id, source_digest, document } = request.body ?? {};
    if (typeof document !== 'string' || typeof source_id !== 'string' || typeof source_digest !== 'string') {
      throw new WorkloadError('request.invalid', 'body needs source_id, source_digest and document (the SBOM as fetched)', { field: 'body' });
    }
    if (sha256(document) !== source_digest) {
      throw new WorkloadError('sbom.invalid', 'document does not match source_digest: the SBOM changed between fetch and ingest', { field: 'body.source_digest' });
    }
    const journey = startJourney('sbom_ingest', { 'stella.tenant_id': tenant });
    const sbom_digest = source_digest;
    const sbom_id = sbomIdFor(sbom_digest);
    try {
      const record = await withSpan('sbom.ingest', { 'stella.sbom.digest': sbom_digest }, async (span) => {
        let parsed: ReturnType<typeof readCycloneDx>;
        try {
          parsed = readCycloneDx(JSON.parse(document) as unknown);
        } catch (err) {
          if (err instanceof WorkloadError) throw err;
          throw new WorkloadError('sbom.invalid', `document is not JSON: ${(err as Error).message}`, { field: 'body.document' });
        }
        span.setAttribute('stella.sbom.components', parsed.components.length);
        const meta = parsed.bom.metadata?.component;
        return {
          sbom_id,
          sbom_digest,
          components_digest: canonicalDigest(parsed.components),
          source_id,
          source_digest,
          application: { name: meta ? `${meta.group ? `${meta.group}/` : ''}${meta.name}` : source_id, version: meta?.version ?? 'unknown', purl: meta?.purl },
          components: parsed.components,
          components_without_purl: (parsed.bom.components?.length ?? 0) - parsed.components.length,
        } satisfies SbomRecord;
      }, { fields: { sbom_id, source_id } });
      sboms.set(tenant, sbom_id, record);
      journey.end('success');
      rt.logger.info({ sbom_id, source_id, resource: 'sbom', action: 'ingest', details: { components: record.components.length } }, 'SBOM ingested');
      await rt.stella.emit({
        kind: 'sbom.ingested',
        resource_type: 'sbom',
        resource_id: sbom_id,
        details: {
          sbom_digest,
          components_digest: record.components_digest,
          source_id,
          source_digest,
          application: record.application.name,
          version: record.application.version,
          components: record.components.length,
          spec: 'CycloneDX 1.5',
          custody: { step: 'sbom.compute', subject: custodySubject(sbom_id), input_digest: source_digest, output_digest: record.components_digest },
        },
      });
      return reply.code(201).send({ sbom_id, sbom_digest, components_digest: record.components_digest, application: record.application, components: record.components.length });
    } catch (err) {
      journey.end('failure');
      throw err;
    }
  });

  app.get<{ Params: { sbom_id: string } }>('/sboms/:sbom_id/components', async (request) => {
    const record = sboms.get(currentContext().tenant_id!, request.params.sbom_id);
    if (!record) throw new WorkloadError('sbom.not_found', `no SBOM ${request.params.sbom_id} in this tenant`, { field: 'params.sbom_id' });
    return { sbom_id: record.sbom_id, sbom_digest: record.sbom_digest, components_digest: record.components_digest, application: record.application, components: record.components };
  });
}
