/**
 * Errors of the object store seam, with stable codes (`blob.*` of errors.ts, where each is
 * described) that the evidence locker and attestations turn into `evidence.*` answers.
 */
import type { CodesOf } from '../errors.js';

export type BlobErrorCode = CodesOf<'blob'>;

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
