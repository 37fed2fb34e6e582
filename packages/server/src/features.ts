/** The features the service runs, in start order; each is built from the service's parts (service-parts.ts). */
import { attestFeature } from './attest/attest-feature.js';
import { captureFeature } from './capture/capture-feature.js';
import { consoleFeature } from './console/console-feature.js';
import { custodyFeature } from './custody/custody-feature.js';
import { deepDebugFeature } from './deep-debug/deep-debug-feature.js';
import { doraFeature } from './dora/dora-feature.js';
import { evidenceFeature } from './evidence/evidence-feature.js';
import { federationFeature } from './federation/federation-feature.js';
import { incidentFeature } from './incident/incident-feature.js';
import { ingestFeature } from './ingest/ingest-feature.js';
import { keysFeature } from './keys/keys-feature.js';
import { obsFeature } from './obs/obs-feature.js';
import { otlpFeature } from './otlp/otlp-feature.js';
import { profilesFeature } from './profiles/profiles-feature.js';
import { segmentsFeature } from './segments/segments-feature.js';
import type { ServiceFeature } from './service-feature.js';
import { sloFeature } from './slo/slo-feature.js';
import { timelineFeature } from './timeline/timeline-feature.js';

export const FEATURES: readonly ServiceFeature[] = [
  timelineFeature,
  segmentsFeature,
  otlpFeature,
  ingestFeature,
  obsFeature,
  captureFeature,
  incidentFeature,
  deepDebugFeature,
  sloFeature,
  evidenceFeature,
  keysFeature,
  profilesFeature,
  attestFeature,
  custodyFeature,
  doraFeature,
  federationFeature,
  consoleFeature,
];
