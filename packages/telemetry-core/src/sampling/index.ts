export {
  IncidentModeRegistry,
  InMemoryIncidentModeSource,
  IncidentModeError,
  parseIncidentModeDocument,
} from './incident-mode.js';
export type { IncidentMode, IncidentModeDocument, IncidentModeSource } from './incident-mode.js';
export { HttpIncidentModeSource, INCIDENT_MODE_PATH } from './http-incident-source.js';
export type { HttpIncidentModeSourceOptions } from './http-incident-source.js';
export { StellaHeadSampler } from './head-sampler.js';
export type { HeadSamplerOptions } from './head-sampler.js';
export { TailSamplingProcessor, TENANT_ATTRIBUTE, SAMPLING_REASON_ATTRIBUTE } from './tail-buffer.js';
export { TailTracer, TailTracerProvider } from './tail-tracer.js';
export { CandidateSpan } from './candidate-span.js';
export type { TailBufferOptions } from './tail-buffer.js';
export { BusIncidentModeSource, type BusIncidentModeSourceOptions } from './bus-incident-source.js';
