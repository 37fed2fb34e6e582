/** EVI-3/EVI-7: the key ring API — the public keys with their rotation log, and audited rotation. */
import type { ServiceFeature } from '../service-feature.js';
import { keysRoutes } from './keys-routes.js';

export const keysFeature: ServiceFeature = {
  name: 'keys',
  create({ forensics, audit, clock }) {
    return { routes: (app) => keysRoutes(app, { keys: forensics.keys, audit, clock }) };
  },
};
