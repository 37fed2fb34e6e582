/**
 * Why a verification failed, as stable codes the server and CLI show verbatim. A verifier
 * collects every failure it finds instead of stopping at the first, so an auditor sees the whole
 * picture (e.g. both the digest mismatch at a path and the resulting Merkle root mismatch).
 */
export type VerificationFailureCode =
  /** The tar could not be parsed (bad header checksum, truncation, garbage). */
  | 'archive_malformed'
  /** The tar parses but is not byte-for-byte what the deterministic writer emits (order, mode, mtime, padding). */
  | 'archive_noncanonical'
  | 'manifest_missing'
  | 'manifest_invalid'
  /** A file listed in the manifest is absent. */
  | 'file_missing'
  /** A file is present that the manifest does not list. */
  | 'file_unexpected'
  | 'digest_mismatch'
  | 'size_mismatch'
  | 'merkle_root_missing'
  /** `root.merkle` or the manifest's root disagree with the root recomputed from the files. */
  | 'merkle_root_mismatch'
  /** No signature at all (`manifest.sig` absent) — a timestamp alone never makes a bundle valid. */
  | 'signature_missing'
  | 'signature_invalid'
  | 'envelope_missing'
  | 'envelope_invalid'
  /** The DSSE envelope signs different bytes than the manifest beside it. */
  | 'envelope_payload_mismatch'
  | 'payload_type_mismatch'
  /** Fewer distinct trusted keys signed than the threshold requires. */
  | 'threshold_not_met'
  | 'key_unknown'
  /** The signature names a key other than the one supplied or recorded. */
  | 'key_mismatch'
  /** The signing time falls outside the key's validity window. */
  | 'key_outside_validity'
  | 'key_revoked'
  | 'timestamp_missing'
  | 'timestamp_invalid'
  /** The timestamp token covers a different hash than the bundle's Merkle root. */
  | 'timestamp_mismatch'
  /** The timestamp's TSA certificate does not chain to a supplied trust anchor at genTime. */
  | 'timestamp_untrusted'
  /** The timestamp says the root existed before the manifest claims it was created. */
  | 'timestamp_time_inconsistent'
  | 'statement_invalid'
  /** An artifact's digest matches no subject of the attestation. */
  | 'subject_mismatch';

export interface VerificationFailure {
  readonly code: VerificationFailureCode;
  readonly message: string;
  /** Bundle-relative path the failure is about, when there is one. */
  readonly path?: string;
  readonly keyId?: string;
}

export function failure(code: VerificationFailureCode, message: string, extra: { path?: string; keyId?: string } = {}): VerificationFailure {
  return { code, message, ...extra };
}
