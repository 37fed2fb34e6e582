/**
 * @stellaops/forensics — evidence and provenance cryptography with no server dependency:
 * used by the service to build and verify bundles, by the `stella` CLI offline, and by anyone
 * checking StellaOps evidence independently.
 */
export { ForensicsError } from './errors.js';
export type { ForensicsErrorCode } from './errors.js';
export type { VerificationFailure, VerificationFailureCode } from './verification-failure.js';

export { jcs, jcsBytes } from './encoding/jcs.js';
export type { JsonObject, JsonValue } from './encoding/jcs.js';
export { decodeBase64, encodeBase64 } from './encoding/base64.js';

export {
  EMPTY_ROOT,
  MerkleTree,
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle/merkle.js';

export {
  P256_ORDER,
  checkSignature,
  createKeySigner,
  encodeEcdsaSignature,
  generateSigningKeyPair,
  keyIdOf,
  loadPublicKey,
  normalizeSignature,
  parseEcdsaSignature,
  verifySignature,
} from './keys/signer.js';
export type { GeneratedKeyPair, SignatureAlgorithm, SignatureCheck, Signer, VerificationKey } from './keys/signer.js';
export { Keyring, ROTATION_PAYLOAD_TYPE } from './keys/keyring.js';
export type { KeyCheck, KeyRecord, KeyringDocument, KeyringLoadOptions, RotationEntry, RotationOp } from './keys/keyring.js';

export { pae, parseDsseEnvelope, signDsse, verifyDsse } from './dsse/dsse.js';
export type { DsseEnvelope, DsseSignature, DsseVerification, DsseVerifyOptions } from './dsse/dsse.js';

export {
  BUNDLE_ENTRIES,
  CONTENT_PREFIX,
  EVIDENCE_KINDS,
  LEGACY_MANIFEST_FORMAT,
  MANIFEST_FORMAT,
  MANIFEST_PAYLOAD_TYPE,
  manifestLeafData,
  manifestLeafHash,
  merkleRootFileContent,
  parseManifest,
  serializeManifest,
  validateContentPath,
} from './bundle/manifest.js';
export type { EvidenceKind, EvidenceManifest, ManifestFile, ManifestFormat } from './bundle/manifest.js';
export { SIGSTORE_BUNDLE_MEDIA_TYPE, canonicalEnvelope, serializeSigstoreBundle, sigstoreBundle } from './bundle/sigstore.js';
export type { SigstoreBundle } from './bundle/sigstore.js';
export { GZIP_HEADER, gunzipCanonical } from './bundle/gzip.js';
export { buildEvidenceBundle } from './bundle/build.js';
export type { BuildEvidenceBundleOptions, BundleFileInput, BundleOutput, EvidenceBundle, FileSource } from './bundle/build.js';
export { buildEvaluationBundle, buildExportManifest, buildJobCapsule, hashEnvironment } from './bundle/snapshots.js';
export type { EvaluationSnapshot, ExportSnapshot, HashedEnvironment, JobCapsule, NamedSource, SnapshotCommon } from './bundle/snapshots.js';
export { verifyBundle, verifyBundleDirectory, verifyBundleStream } from './bundle/verify.js';
export type { BundleVerification, SigningTime, VerifyBundleOptions } from './bundle/verify.js';
export { fileInclusionProof, verifyFileInclusion } from './bundle/proof.js';
export type { FileInclusionProof } from './bundle/proof.js';

export {
  EXPORT_BUILD_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  JOB_BUILD_TYPE,
  SLSA_PROVENANCE_V1,
  createProvenanceStatement,
  exportProvenance,
  jobProvenance,
  signStatement,
  verifyAttestation,
} from './attest/provenance.js';
export type {
  AttestationArtifact,
  AttestationVerification,
  ExportProvenanceInput,
  InTotoStatement,
  JobProvenanceInput,
  ProvenanceInput,
  ResourceDescriptor,
  SlsaProvenancePredicate,
  Subject,
  VerifyAttestationOptions,
} from './attest/provenance.js';

export {
  canonicalTimestampResponse,
  createHttpTimestamper,
  createTimestampRequest,
  parseTimestampResponse,
  requestTimestamp,
  verifyCanonicalTimestamp,
  verifyTimestamp,
} from './timestamp/rfc3161.js';
export type {
  ParsedTimestampResponse,
  TimestampClientOptions,
  TimestampRequest,
  TimestampVerification,
  TimestampVerifyOptions,
} from './timestamp/rfc3161.js';

// The canonical tar form, for services that stream stored bundles back out byte-identically.
export { tarHeader, paddingFor as tarPadding, comparePaths as compareTarPaths, END_OF_ARCHIVE, BLOCK as TAR_BLOCK } from './bundle/tar.js';
export { readTar, type TarEntryHeader, type TarEntrySink, type TarProblem } from './bundle/tar.js';

// Federation (FED-1..4): consent proofs and aggregate bundles as HMAC-signed DSSE envelopes.
export { FEDERATION_ERROR_CODES, FederationError, isFederationErrorCode } from './federation/errors.js';
export type { FederationErrorCode } from './federation/errors.js';
export {
  FEDERATION_BUNDLE_PAYLOAD_TYPE,
  FEDERATION_CONSENT_PAYLOAD_TYPE,
  MIN_FEDERATION_SECRET_BYTES,
  OFFLINE_UNSIGNED_FALLBACK,
  canonicalFederationEnvelope,
  federationEnvelopeDigest,
  hmacFederationSigner,
  isUnsignedFallback,
  parseFederationEnvelope,
  parseFederationKeyMap,
  signFederationEnvelope,
  verifyFederationSignature,
} from './federation/envelope.js';
export type { FederationEnvelope, FederationKeyMap, FederationSignOptions, FederationSignature, FederationSigner, FederationTrustOptions } from './federation/envelope.js';
export {
  DEFAULT_MIN_ARTIFACTS,
  MAX_BUCKETS,
  NOISY_VEX_STATUSES,
  aggregateFederationBuckets,
  assertConsentInForce,
  buildFederationBundle,
  canonicalPayloadOf,
  compareBuckets,
  consentOf,
  createFederationConsent,
  deriveBundleId,
  federationTime,
  observationsFromFindings,
  validateBundlePayload,
  validateConsent,
} from './federation/payloads.js';
export type { BuiltBundle as FederationBuiltBundle, BundleInput as FederationBundleInput, ConsentInput as FederationConsentInput, FederationBucket, FederationBundlePayload, FederationConsent, FederationObservation } from './federation/payloads.js';
export { verifyFederationBundle, verifyFederationConsent } from './federation/verify.js';
export type { FederationBundleVerification, FederationBundleVerifyOptions, FederationConsentVerification, FederationConsentVerifyOptions, FederationFailure } from './federation/verify.js';
