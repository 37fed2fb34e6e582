export { checkEgress, isLoopbackAddress, sealedFromEnv } from './egress-guard.js';
export type { EgressPolicy, EgressVerdict, EgressVerdictReason } from './egress-guard.js';
