/**
 * @stellaops/forensics — evidence and provenance cryptography with no server dependency:
 * used by the service to build and verify bundles, by the `stella` CLI offline, and by anyone
 * checking StellaOps evidence independently.
 */
export { ForensicsError } from './errors.js';
export type { ForensicsErrorCode } from './errors.js';
export type { VerificationFailure, VerificationFailureCode } from './verification-failure.js';

export { canonicalJson, canonicalJsonCompact } from './encoding/canonical-json.js';
export type { JsonObject, JsonValue } from './encoding/canonical-json.js';
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

export { createKeySigner, generateSigningKeyPair, keyIdOf, loadPublicKey, verifySignature } from './keys/signer.js';
export type { GeneratedKeyPair, SignatureAlgorithm, Signer, VerificationKey } from './keys/signer.js';
export { Keyring, ROTATION_PAYLOAD_TYPE } from './keys/keyring.js';
export type { KeyCheck, KeyRecord, KeyringDocument, KeyringLoadOptions, RotationEntry, RotationOp } from './keys/keyring.js';

export { pae, parseDsseEnvelope, signDsse, verifyDsse } from './dsse/dsse.js';
export type { DsseEnvelope, DsseSignature, DsseVerification, DsseVerifyOptions } from './dsse/dsse.js';

export {
  BUNDLE_ENTRIES,
  CONTENT_PREFIX,
  EVIDENCE_KINDS,
  MANIFEST_FORMAT,
  MANIFEST_PAYLOAD_TYPE,
  manifestLeafData,
  manifestLeafHash,
  merkleRootFileContent,
  parseManifest,
  serializeManifest,
  validateContentPath,
} from './bundle/manifest.js';
export type { EvidenceKind, EvidenceManifest, ManifestFile } from './bundle/manifest.js';
export { buildEvidenceBundle } from './bundle/build.js';
export type { BuildEvidenceBundleOptions, BundleFileInput, BundleOutput, EvidenceBundle, FileSource } from './bundle/build.js';
export { buildEvaluationBundle, buildExportManifest, buildJobCapsule, hashEnvironment } from './bundle/snapshots.js';
export type { EvaluationSnapshot, ExportSnapshot, HashedEnvironment, JobCapsule, NamedSource, SnapshotCommon } from './bundle/snapshots.js';
export { verifyBundle, verifyBundleDirectory, verifyBundleStream } from './bundle/verify.js';
export type { BundleVerification, VerifyBundleOptions } from './bundle/verify.js';
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
  createHttpTimestamper,
  createTimestampRequest,
  parseTimestampResponse,
  requestTimestamp,
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
