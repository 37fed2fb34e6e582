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
  /** A `.tar.gz` whose gzip wrapper is not the one accepted form (one member, fixed header, nothing after it, CRC and length right). */
  | 'archive_compression_invalid'
  /** A directory in the archive, or a directory in an unpacked bundle that holds no listed file. */
  | 'entry_directory'
  | 'entry_symlink'
  /** A tar hard-link entry, or a file of an unpacked bundle with more than one link. */
  | 'entry_hardlink'
  /** A device, FIFO, socket or other non-file entry (also pax/GNU extension headers). */
  | 'entry_special'
  /** The same path twice in one archive. */
  | 'entry_duplicate'
  /** An entry path that is absolute, has `..`/`.`/empty segments, backslashes or control characters. */
  | 'path_unsafe'
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
  /** A signature that is not in its one accepted encoding: not strict DER (ECDSA), wrong length (Ed25519). */
  | 'signature_malformed'
  /** An ECDSA signature with s > n/2 — the mirror image of a valid signature, never written by a signer here. */
  | 'signature_high_s'
  /** `manifest.sig` is not exactly the base64 of the signature as the signer writes it (whitespace, newline, other alphabet, padding). */
  | 'signature_noncanonical'
  /** `manifest.sigstore.json` is absent from a bundle format that requires it. */
  | 'sigstore_bundle_missing'
  /** `manifest.sigstore.json` is not exactly the Sigstore bundle of `manifest.dsse.json` (media type, key hint, envelope, timestamps). */
  | 'sigstore_bundle_invalid'
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
  /** The timestamp says the root existed before the manifest claims it was created, or the signature existed before its claimed signing time. */
  | 'timestamp_time_inconsistent'
  /** A timestamp token carrying bytes the TSA did not sign (extra certificates, unsigned attributes, status text, BER, a high-S TSA signature). */
  | 'timestamp_noncanonical'
  /**
   * A signing time had to be proven (`requireTimestamp`) for a key that is no longer active,
   * and no TSA time over the signature places it inside the key's validity window.
   */
  | 'key_time_unproven'
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
