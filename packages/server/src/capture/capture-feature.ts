/** FOR-1..4: forensic capture of the embedded store over HTTP (incident mode captures through the same part). */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import type { CaptureParts } from '../service-parts.js';
import { captureRoutes } from './capture-routes.js';

export interface CaptureRuntime extends FeatureRuntime, CaptureParts {}

export const captureFeature: ServiceFeature = {
  name: 'capture',
  create({ config, capture: parts, telemetry, audit, logger, clock }) {
    const runtime: CaptureRuntime = {
      ...parts,
      routes: (app) =>
        captureRoutes(app, {
          config,
          capture: parts.capture,
          signer: parts.signer,
          audit,
          logger,
          clock,
          flushIndex: () => telemetry.index.flush(),
        }),
    };
    return runtime;
  },
};
