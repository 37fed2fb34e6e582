/** OBS-1 read APIs over the embedded telemetry store. */
import type { ServiceFeature } from '../service-feature.js';
import { telemetryStoreFor } from '../segments/telemetry-store.js';
import { obsRoutes } from './obs-routes.js';

export const obsFeature: ServiceFeature = {
  name: 'obs',
  create(ctx) {
    const telemetry = telemetryStoreFor(ctx);
    return {
      routes: (app) =>
        obsRoutes(app, {
          config: ctx.config,
          store: ctx.store,
          segments: telemetry.segments,
          clock: ctx.clock,
          flushIndex: () => telemetry.index.flush(),
        }),
    };
  },
};
