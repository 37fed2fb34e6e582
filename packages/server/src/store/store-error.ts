/** Errors raised while opening or migrating the store; the service refuses to start on them. */
export type StoreErrorCode = 'store.locked' | 'store.migration_failed' | 'store.migration_changed' | 'store.role_bypasses_rls' | 'store.unavailable';

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
