/**
 * The parts of the embedded telemetry store that several features use (the receiver appends,
 * the read APIs and captures read, incident mode places holds): one instance per service,
 * created by whichever feature asks first. The segments feature owns its lifecycle.
 */
import { join } from 'node:path';
import type { FeatureContext } from '../service-feature.js';
import { Quarantine } from '../ingest/quarantine.js';
import { SegmentStore } from './segment-store.js';
import { TelemetryIndex } from './telemetry-index.js';

export interface TelemetryStore {
  segments: SegmentStore;
  index: TelemetryIndex;
  quarantine: Quarantine;
}

const stores = new WeakMap<FeatureContext, TelemetryStore>();

export function telemetryStoreFor(ctx: FeatureContext): TelemetryStore {
  let store = stores.get(ctx);
  if (!store) {
    const segments = new SegmentStore(join(ctx.config.dataDir, 'telemetry', 'segments'), ctx.logger);
    const quarantine = new Quarantine(ctx.store, ctx.logger, ctx.clock);
    store = { segments, quarantine, index: new TelemetryIndex({ store: ctx.store, segments, quarantine, logger: ctx.logger }) };
    stores.set(ctx, store);
  }
  return store;
}
