/** Errors of the object store seam, with stable codes the evidence routes map to HTTP. */
export type BlobErrorCode =
  /** The key (or a tenant, case, bundle or subject id inside it) is malformed or would escape its prefix. */
  | 'blob.key_invalid'
  /** A committed object already has this key: write-once storage never replaces it. */
  | 'blob.exists'
  | 'blob.not_found'
  /** Deletion refused: the object is under legal hold or inside its retention period. */
  | 'blob.locked'
  /** The backend failed (I/O, network, credentials). */
  | 'blob.unavailable';

export class BlobError extends Error {
  override readonly name = 'BlobError';
  constructor(
    readonly code: BlobErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}
