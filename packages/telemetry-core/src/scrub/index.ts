/** Public face of the scrubbing engine (CORE-2); re-exported from the package index. */
export { REDACTION_CLASSES, type RedactionClass } from './classes.js';
export { ScrubError, type ScrubErrorCode } from './errors.js';
export {
  compileScrubPolicy,
  DEFAULT_ALLOW_KEYS,
  DEFAULT_REDACT_KEYS,
  DEFAULT_MAX_STRING_LENGTH,
  type ScrubPolicy,
  type CompiledScrubPolicy,
} from './policy.js';
export { loadScrubPolicy, DEFAULT_SCRUB_POLICY_FILE } from './policy-file.js';
export { scrubText } from './scrub-text.js';
export { scrubValue, scrubKeyValue, type Scrubbed } from './scrub-value.js';
export {
  enableDeepDebug,
  disableDeepDebug,
  isDeepDebugActive,
  listDeepDebug,
  onDeepDebugChange,
  setScrubClock,
  MAX_DEEP_DEBUG_TTL_MS,
  type DeepDebugOptions,
  type DeepDebugGrant,
  type DeepDebugEvent,
  type DeepDebugListener,
} from './deep-debug.js';
