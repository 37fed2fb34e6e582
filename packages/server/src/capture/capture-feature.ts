/** FOR-1..4: forensic capture of the embedded store, over HTTP and for incident mode. */
import { createHttpTimestamper, type Signer } from '@stellaops/forensics';
import { resolveForensicsSettings } from '../evidence/forensics-settings.js';
import type { FeatureContext, FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { telemetryStoreFor } from '../segments/telemetry-store.js';
import { openCaptureSigner } from './capture-signer.js';
import { captureRoutes } from './capture-routes.js';
import { ForensicCapture } from './forensic-capture.js';

export interface CaptureRuntime extends FeatureRuntime {
  capture: ForensicCapture;
  signer(): Signer;
}

const captures = new WeakMap<FeatureContext, { capture: ForensicCapture; signer: () => Signer }>();

/** The service's capture builder (shared with incident mode). */
export function captureFor(ctx: FeatureContext): { capture: ForensicCapture; signer: () => Signer } {
  let entry = captures.get(ctx);
  if (!entry) {
    let signer: Signer | undefined;
    const getSigner = (): Signer => (signer ??= openCaptureSigner(ctx.config.dataDir));
    // The same TSA as evidence bundles (STELLA_EVIDENCE_TSA_URL): captures carry a timestamp over their signature too.
    const tsaUrl = resolveForensicsSettings(ctx.config).tsaUrl;
    entry = {
      capture: new ForensicCapture({
        segments: telemetryStoreFor(ctx).segments,
        signer: getSigner,
        logger: ctx.logger,
        clock: ctx.clock,
        ...(tsaUrl ? { timestamper: createHttpTimestamper(tsaUrl) } : {}),
      }),
      signer: getSigner,
    };
    captures.set(ctx, entry);
  }
  return entry;
}

export const captureFeature: ServiceFeature = {
  name: 'capture',
  create(ctx) {
    const { capture, signer } = captureFor(ctx);
    const runtime: CaptureRuntime = {
      capture,
      signer,
      routes: (app) =>
        captureRoutes(app, {
          config: ctx.config,
          capture,
          signer,
          emitter: ctx.emitter,
          logger: ctx.logger,
          clock: ctx.clock,
          flushIndex: () => telemetryStoreFor(ctx).index.flush(),
        }),
    };
    return runtime;
  },
};
