/** Errors raised while opening or migrating the store; the service refuses to start on them. Codes: `store.*` of errors.ts. */
import type { CodesOf } from '../errors.js';

export type StoreErrorCode = CodesOf<'store'>;

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
