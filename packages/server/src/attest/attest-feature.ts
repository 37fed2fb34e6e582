/** ATT: in-toto/SLSA attestations, signed by the service or submitted signed, verified against the tenant's key ring. */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { AttestationService } from './attestation-service.js';
import { attestRoutes } from './attest-routes.js';

export interface AttestRuntime extends FeatureRuntime {
  attestations: AttestationService;
}

export const attestFeature: ServiceFeature = {
  name: 'attest',
  migrations: { name: 'attest', dir: new URL('./migrations/', import.meta.url) },
  create({ store, forensics, audit, clock }) {
    const attestations = new AttestationService({ store, keys: forensics.keys, objects: forensics.objects, audit, clock });
    const runtime: AttestRuntime = { attestations, routes: (app) => attestRoutes(app, { attestations }) };
    return runtime;
  },
};
