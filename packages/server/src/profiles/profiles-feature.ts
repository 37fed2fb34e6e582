/** COL-3: signed Collector profiles, rendered with the service's options and signed with its evidence key. */
import type { ServiceFeature } from '../service-feature.js';
import { profilesRoutes } from './profiles-routes.js';

export const profilesFeature: ServiceFeature = {
  name: 'profiles',
  create({ config, forensics }) {
    return { routes: (app) => profilesRoutes(app, { config, keys: forensics.keys }) };
  },
};
