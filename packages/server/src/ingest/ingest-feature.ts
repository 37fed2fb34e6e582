/** The quarantine's inspection and replay API, and on-demand reindexing of the telemetry store. */
import type { ServiceFeature } from '../service-feature.js';
import { telemetryStoreFor } from '../segments/telemetry-store.js';
import { quarantineRoutes } from './quarantine-routes.js';

export const ingestFeature: ServiceFeature = {
  name: 'ingest',
  create(ctx) {
    const telemetry = telemetryStoreFor(ctx);
    return { routes: (app) => quarantineRoutes(app, { quarantine: telemetry.quarantine, index: telemetry.index, bus: ctx.bus, emitter: ctx.emitter }) };
  },
};
