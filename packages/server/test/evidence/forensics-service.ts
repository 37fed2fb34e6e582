/** A real service (timeline + evidence, attestations, custody) on a temporary data directory, with a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, resolveConfig, type StellaService } from '../../src/index.js';
import { attestFeature } from '../../src/attest/attest-feature.js';
import { custodyFeature } from '../../src/custody/custody-feature.js';
import { evidenceFeature, type EvidenceRuntime } from '../../src/evidence/evidence-feature.js';
import { keysFeature } from '../../src/keys/keys-feature.js';
import type { ForensicsOptions } from '../../src/service-parts.js';
import { timelineFeature } from '../../src/timeline/timeline-feature.js';

export interface ForensicsTestService {
  service: StellaService;
  dataDir: string;
  evidence: EvidenceRuntime;
  /** Moves the service clock. */
  clock: { now: number };
  token(tenant: string, scopes: readonly string[], options?: { subject?: string }): Promise<string>;
  /** Stops the service; removes the data directory unless `keepData`. */
  stop(keepData?: boolean): Promise<void>;
}

export const ALL_SCOPES = ['evidence:create', 'evidence:read', 'evidence:export', 'evidence:admin', 'attest:read', 'attest:create', 'timeline:read', 'timeline:write'];

export async function startForensicsService(
  options: { dataDir?: string; env?: Record<string, string>; features?: ForensicsOptions; now?: number } = {},
): Promise<ForensicsTestService> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'stella-evidence-'));
  const clock = { now: options.now ?? Date.parse('2025-03-01T12:00:00.000Z') };
  const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'error'], options.env ?? {});
  const service = await createService({
    config,
    clock: () => clock.now,
    features: [timelineFeature, evidenceFeature, keysFeature, attestFeature, custodyFeature],
    forensics: { env: {}, ...options.features },
  });
  return {
    service,
    dataDir,
    evidence: service.features.get('evidence') as EvidenceRuntime,
    clock,
    token: (tenant, scopes, o = {}) => service.devAuthority!.mint({ tenant, scopes, now: clock.now, ttlSeconds: 86_400 * 3650, ...o }),
    stop: async (keepData = false) => {
      await service.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An artifact upload body. */
export function artifact(resourceType: string, resourceId: string, role: string, name: string, content: string | Buffer) {
  return { resource_type: resourceType, resource_id: resourceId, role, name, media_type: 'application/json', content_base64: Buffer.from(content).toString('base64') };
}
