/** The chain of custody of a resource: its recorded steps, linked by digests, with their bundles and attestations re-verified. */
import { AttestationService } from '../attest/attestation-service.js';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { TimelineRepository } from '../timeline/timeline-repository.js';
import { custodyRoutes } from './custody-routes.js';
import { CustodyService } from './custody-service.js';

export interface CustodyRuntime extends FeatureRuntime {
  custody: CustodyService;
}

export const custodyFeature: ServiceFeature = {
  name: 'custody',
  migrations: { name: 'custody', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, forensics, audit, clock }) {
    // Reading attestations back needs no state of its own: a reader over the same store, keys and objects.
    const attestations = new AttestationService({ store, keys: forensics.keys, objects: forensics.objects, audit, clock });
    const custody = new CustodyService(new TimelineRepository(store, config.timelineRetentionDays), forensics.locker, attestations);
    const runtime: CustodyRuntime = { custody, routes: (app) => custodyRoutes(app, { custody }) };
    return runtime;
  },
};
