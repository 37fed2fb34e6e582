/** The quarantine's inspection and replay API, and on-demand reindexing of the telemetry store. */
import type { ServiceFeature } from '../service-feature.js';
import { quarantineRoutes } from './quarantine-routes.js';

export const ingestFeature: ServiceFeature = {
  name: 'ingest',
  create({ quarantine, telemetry, bus, audit }) {
    return { routes: (app) => quarantineRoutes(app, { quarantine, index: telemetry.index, bus, audit }) };
  },
};
