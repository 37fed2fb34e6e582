/**
 * Collector profiles as code (COL-1, COL-2, COL-5): `default`, `forensic` and `airgap` as a typed
 * model, rendered to deterministic OpenTelemetry Collector YAML, validated against the pinned
 * distribution's components, the exporter allowlist and sealed mode, with the telemetry policy
 * mapped to the Collector's redaction processor, and compared semantically.
 */
export { PROFILE_ERROR_CODES, PROFILE_ISSUE_CODES, ProfileError } from './errors.js';
export type { ProfileErrorCode, ProfileIssue, ProfileIssueCode, ProfileIssueSeverity } from './errors.js';

export { FILE_RETENTION_DAYS, PROFILE_NAMES, SAMPLING_DEFAULTS } from './options.js';
export type { BackendTarget, ClientTlsOptions, ProfileName, ProfileOptions, ReceiverTlsOptions, SamplingOptions } from './options.js';

export { buildProfile } from './model.js';
export type { ClientTls, CollectorProfile, ExporterModel, QueueModel, ReceiverModel, ServerTls } from './model.js';

export { collectorConfig, INCIDENT_SAMPLING_ATTRIBUTE } from './collector-config.js';
export type { CollectorConfig, PipelineConfig, YamlMap, YamlValue } from './collector-config.js';

export { collectorYaml, parseProfileYaml, renderProfile, validateProfile } from './render.js';
export type { ProfileHeader, RenderedProfile, RenderOptions } from './render.js';

export { validateCollectorConfig } from './validate.js';
export type { ValidateOptions, ValidationReport } from './validate.js';

export { diffProfiles, formatProfileDiff } from './diff.js';
export type { ProfileChange, ProfileChangeKind } from './diff.js';

export { policyDigest, redactionFromPolicy, UNMAPPED_POLICY_BEHAVIOUR, VALUE_RULES } from './policy-redaction.js';
export type { RedactionMapping, ValueRule } from './policy-redaction.js';

export { COMPONENT_KINDS, COMPONENT_SIGNALS, DISTRIBUTIONS, PINNED_DISTRIBUTION, SIGNALS, componentType, distributionComponents } from './distribution.js';
export type { ComponentKind, Distribution, DistributionComponents, Signal } from './distribution.js';

export { allowlisted, isLoopbackHost, parseEndpoint } from './endpoints.js';
export type { Endpoint } from './endpoints.js';

export { canonicalYaml } from './yaml.js';

export {
  PROFILE_CONFIG_FILE,
  PROFILE_CONFIGMAP_FILE,
  PROFILE_ENVELOPE_FILE,
  PROFILE_PAYLOAD_TYPE,
  PROFILE_SIGNATURE_CODES,
  profileConfigMap,
  profileDigest,
  readProfileConfigMap,
  serializeProfileEnvelope,
  signProfile,
  verifyProfileBundle,
} from './bundle.js';
export type { ConfigMapOptions, ProfileBundle, ProfileSignatureCode, ProfileTrust, ProfileVerification } from './bundle.js';
