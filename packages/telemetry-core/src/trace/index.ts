export { SPAN_NAMES, SPAN_ATTRIBUTES, isConventionalSpanName } from './span-names.js';
export type { SpanName } from './span-names.js';
export { startSpan, withSpan } from './with-span.js';
export type { StartSpanOptions, ActiveSpan } from './with-span.js';
