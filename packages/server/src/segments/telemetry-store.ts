/**
 * The embedded telemetry store: raw segments (the log every acknowledged record is in) and the
 * SQL index derived from them. Built once by the service (service-parts.ts); the receiver
 * appends through it, the read APIs, captures and retention read through it.
 */
import type { SegmentStore } from './segment-store.js';
import type { TelemetryIndex } from './telemetry-index.js';

export interface TelemetryStore {
  segments: SegmentStore;
  index: TelemetryIndex;
}
