/**
 * An exclusive lock file beside the embedded database. PGlite opens a data directory that
 * another process is using without complaint and both then corrupt it, so the service takes
 * this lock first. A lock left by a dead process on this host is taken over.
 *
 * Every step is atomic, so of any number of processes starting together exactly one holds
 * the lock:
 *
 * - The lock is created complete: the record is written to a file of this process
 *   (`db.lock.<nonce>.tmp`) and hard-linked to `db.lock`; `link` fails when `db.lock` exists.
 *   Readers never see a half-written lock.
 * - A stale lock (its process is dead) is removed only by the one process that wins the
 *   takeover marker of that very lock record — `db.lock.takeover-<hash of the record>-<n>`,
 *   again created by `link` — and only after re-reading, under the marker, that `db.lock`
 *   still holds that record. Whoever loses the marker fails with `store.locked`, since the
 *   winner is about to run. A marker whose own process died (a crash inside the takeover) is
 *   passed over by the next level `n + 1`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreError } from './store-error.js';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
  nonce?: string;
}

/** Takeover levels tried past markers of dead processes before giving up. */
const MAX_TAKEOVER_LEVELS = 8;
const MAX_ATTEMPTS = 8;
/** File systems without hard links: fall back to an exclusive create, then write. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** The file's text, or undefined when it does not exist. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parse(text: string): Holder {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Holder) : {};
  } catch {
    return {};
  }
}

/** A holder on this host whose process is gone. An unreadable record is never stale: never guess with someone else's database. */
function isStale(holder: Holder): boolean {
  return holder.host === hostname() && typeof holder.pid === 'number' && Number.isInteger(holder.pid) && holder.pid > 0 && holder.pid !== process.pid && !alive(holder.pid);
}

/** Creates `target` holding `text` (the content of `source`) if it does not exist; false when it does. */
function createExclusive(target: string, source: string, text: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    if (!NO_LINKS.has(errno(error) ?? '')) throw error;
  }
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o600);
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function lockedError(path: string, holder: Holder): StoreError {
  return new StoreError(
    'store.locked',
    `the embedded database is in use by process ${holder.pid ?? '?'} on ${holder.host ?? '?'} (lock file ${path}); stop that service or choose another STELLA_DATA_DIR`,
  );
}

/**
 * Removes the stale lock record `staleText` from `path`, if this process wins its takeover.
 * Returns when `path` no longer holds that record; throws `store.locked` when another live
 * process is taking it over.
 */
function takeOver(path: string, staleText: string, source: string, record: string): void {
  const id = createHash('sha256').update(staleText).digest('hex').slice(0, 16);
  for (let level = 1; level <= MAX_TAKEOVER_LEVELS; level++) {
    const marker = `${path}.takeover-${id}-${level}`;
    if (!createExclusive(marker, source, record)) {
      const markerText = readText(marker);
      if (markerText === undefined) return; // its taker just finished: the caller looks at the lock again
      const taker = parse(markerText);
      if (isStale(taker)) continue; // its taker died inside the takeover
      throw lockedError(path, parse(readText(path) ?? staleText));
    }
    try {
      // Only the winner of this record's marker removes it, so the re-read and the unlink see the same file.
      if (readText(path) === staleText) rmSync(path, { force: true });
      return;
    } finally {
      rmSync(marker, { force: true });
    }
  }
  throw new StoreError('store.locked', `could not take over the stale lock file ${path}; remove ${path}.takeover-* files of dead processes`);
}

export function acquireDataDirLock(path: string): DataDirLock {
  const nonce = randomUUID();
  const record = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), nonce });
  const source = `${path}.${nonce}.tmp`;
  const fd = openSync(source, 'wx', 0o600);
  try {
    writeSync(fd, record);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (createExclusive(path, source, record)) {
        let released = false;
        return {
          path,
          release: () => {
            if (released) return;
            released = true;
            // Remove the lock only while it is still this process's record.
            if (readText(path) === record) rmSync(path, { force: true });
          },
        };
      }
      const text = readText(path);
      if (text === undefined) continue; // released meanwhile: try again
      const holder = parse(text);
      if (!isStale(holder)) throw lockedError(path, holder);
      takeOver(path, text, source, record);
    }
    throw new StoreError('store.locked', `could not take the lock file ${path}: other processes keep taking it`);
  } finally {
    rmSync(source, { force: true });
  }
}
