/** The features the service runs, in start order. Later features (evidence/, attest/, incident/, ...) add a line here. */
import type { ServiceFeature } from './service-feature.js';
import { timelineFeature } from './timeline/timeline-feature.js';

export const FEATURES: readonly ServiceFeature[] = [timelineFeature];
