/** The features the service runs, in start order. Later features (evidence/, attest/, incident/, ...) add a line here. */
import type { ServiceFeature } from './service-feature.js';
import { timelineFeature } from './timeline/timeline-feature.js';
import { segmentsFeature } from './segments/segments-feature.js';
import { otlpFeature } from './otlp/otlp-feature.js';
import { ingestFeature } from './ingest/ingest-feature.js';
import { obsFeature } from './obs/obs-feature.js';
import { captureFeature } from './capture/capture-feature.js';
import { incidentFeature } from './incident/incident-feature.js';
import { forensicsFeatures } from './evidence/forensics-features.js';

export const FEATURES: readonly ServiceFeature[] = [
  timelineFeature,
  segmentsFeature,
  otlpFeature,
  ingestFeature,
  obsFeature,
  captureFeature,
  incidentFeature,
  ...forensicsFeatures(),
];
