/** OBS-1 read APIs over the embedded telemetry store. */
import type { ServiceFeature } from '../service-feature.js';
import { TelemetryReader } from '../segments/telemetry-reader.js';
import { obsRoutes } from './obs-routes.js';

export const obsFeature: ServiceFeature = {
  name: 'obs',
  create({ config, store, telemetry, clock }) {
    const reader = new TelemetryReader(store, telemetry);
    return { routes: (app) => obsRoutes(app, { config, reader, clock }) };
  },
};
