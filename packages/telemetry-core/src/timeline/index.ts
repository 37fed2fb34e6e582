/** Timeline emitter (CORE-8) and the bus seam it publishes through (TL-6). */
export { TimelineEmitter } from './timeline-emitter.js';
export type { TimelineEmitterOptions, EmitResult } from './timeline-emitter.js';
export { buildTimelineEvent, timelineEventDigest, encodeTimelineEvent, decodeTimelineEvent } from './timeline-event.js';
export type { TimelineEvent, TimelineEventInput, BuildTimelineEventOptions } from './timeline-event.js';
export { InProcessBus } from './in-process-bus.js';
export type { InProcessBusOptions } from './in-process-bus.js';
export type { Bus, BusMessage, BusConsumer, BatchHandler, ConsumeOptions, PublishOptions, PublishResult } from './bus.js';
export {
  DEFAULT_SUBJECT_PREFIX,
  isValidTenantId,
  assertTenantId,
  isValidKind,
  assertSubjectPrefix,
  timelineSubject,
  sloBreachSubject,
  incidentModeSubject,
  incidentRequestSubject,
  incidentRequestFilterSubject,
  deepDebugSubject,
  deepDebugFilterSubject,
  releaseDeploymentSubject,
  releaseIncidentSubject,
  releaseDeploymentFilterSubject,
  releaseIncidentFilterSubject,
  streamSubjects,
  timelineFilterSubject,
  tenantOfSubject,
  subjectMatches,
} from './subjects.js';
export { TimelineError } from './errors.js';
export type { TimelineErrorCode } from './errors.js';
export { uuidv7, isUuid } from './uuidv7.js';
export { canonicalJson, CanonicalJsonError } from './canonical-json.js';
export type { JsonTrail } from './canonical-json.js';
