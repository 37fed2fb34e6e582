/**
 * Telling a record the database refuses from a database that cannot be reached. Both engines
 * report PostgreSQL SQLSTATE codes (`pg` and PGlite alike, on `error.code`; the PostgreSQL
 * store wraps connection failures in `store.unavailable` with the original as `cause`).
 *
 * - a **rejection** is about the record: class 22 (data exception: a value out of range, NUL in
 *   text, malformed JSON), 23 (integrity constraint) and 54 (program limit exceeded: too deep,
 *   too large). Storing the same record again fails the same way, so it is set aside on its own
 *   and the records beside it are stored.
 * - everything else (08 connection, 57P shutdown, 53 resources, 40 serialization, no SQLSTATE
 *   at all) says nothing about the record: the whole batch is retried later.
 */
import { StoreError } from './store-error.js';

const SQLSTATE_RE = /^[0-9A-Z]{5}$/;
const REJECTION_CLASSES = new Set(['22', '23', '54']);

/** The SQLSTATE of `error` or of the first error in its `cause` chain that has one. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE_RE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the database refused the record itself (SQLSTATE class 22, 23 or 54). */
export function isRecordRejection(error: unknown): boolean {
  if (error instanceof StoreError) return false;
  const code = sqlState(error);
  return code !== undefined && REJECTION_CLASSES.has(code.slice(0, 2));
}

/** `SQLSTATE 22008: date/time field value out of range: "0000-01-01"` — the store's words, for a person. */
export function describeStoreError(error: unknown): string {
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `SQLSTATE ${code}: ${message}` : message;
}

/** SQLSTATE classes and codes that mean "the database cannot serve now": retry later. */
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '53', '58']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
/** File-system errors of the data directory, the evidence store or the segments: full, read-only, failing, out of descriptors. */
const UNAVAILABLE_ERRNOS = new Set(['EROFS', 'ENOSPC', 'EIO', 'EDQUOT', 'EMFILE', 'ENFILE']);

/**
 * A database or file-system failure on the error or one of its causes, by code (never by
 * message text): SQLSTATE class 22 (data exception) is `data` — the request's values; connection,
 * resource, shutdown and I/O failures are `unavailable` — retry later.
 */
export function storageFailure(error: unknown): { kind: 'data' | 'unavailable'; code: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (UNAVAILABLE_ERRNOS.has(code)) return { kind: 'unavailable', code };
      if (SQLSTATE_RE.test(code)) {
        const cls = code.slice(0, 2);
        if (cls === '22') return { kind: 'data', code };
        if (UNAVAILABLE_SQLSTATE_CLASSES.has(cls) || UNAVAILABLE_SQLSTATES.has(code)) return { kind: 'unavailable', code };
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
