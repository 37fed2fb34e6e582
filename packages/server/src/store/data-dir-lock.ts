/**
 * An exclusive lock file beside the embedded database. PGlite opens a data directory that
 * another process is using without complaint and both then corrupt it, so the service takes
 * this lock first. A lock left by a dead process on this host is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreError } from './store-error.js';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDataDirLock(path: string): DataDirLock {
  const record = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, record);
      closeSync(fd);
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
      } catch {
        // An unreadable lock is treated as held: never guess with someone else's database.
      }
      const stale = holder.host === hostname() && typeof holder.pid === 'number' && holder.pid !== process.pid && !alive(holder.pid);
      if (stale && attempt === 0) {
        rmSync(path, { force: true });
        continue;
      }
      throw new StoreError(
        'store.locked',
        `the embedded database is in use by process ${holder.pid ?? '?'} on ${holder.host ?? '?'} (lock file ${path}); stop that service or choose another STELLA_DATA_DIR`,
      );
    }
  }
  throw new StoreError('store.locked', `could not take the lock file ${path}`);
}
