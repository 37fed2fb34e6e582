/**
 * Federated telemetry (FED-1..4): consent proofs and anonymised aggregate bundles — how noisy
 * each CVE is across the tenant's evaluations — signed with HMAC-SHA256 over the federation key
 * map, recorded, audited, and verified against it.
 */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { FederationKeys } from './federation-keys.js';
import { FederationRepository } from './federation-repository.js';
import { federationRoutes } from './federation-routes.js';
import { FederationService } from './federation-service.js';

export interface FederationRuntime extends FeatureRuntime {
  service: FederationService;
  keys: FederationKeys;
}

export const federationFeature: ServiceFeature = {
  name: 'federation',
  migrations: { name: 'federation', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, audit, forensics, logger, clock }) {
    const keys = new FederationKeys({
      file: config.federationKeysFile,
      dataDir: config.dataDir,
      signingKeyId: config.federationSigningKeyId,
      allowUnsigned: config.federationAllowUnsigned,
      logger,
    });
    const service = new FederationService({
      repository: new FederationRepository(store),
      keys,
      audit,
      evidence: { repository: forensics.repository, objects: forensics.objects },
      minArtifacts: config.federationMinArtifacts,
      logger,
      clock,
    });
    const runtime: FederationRuntime = { service, keys, routes: (app) => federationRoutes(app, { service }) };
    return runtime;
  },
};
