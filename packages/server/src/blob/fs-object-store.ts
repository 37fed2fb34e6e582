/**
 * The file-system backend (default): objects under `<root>/tenants/...`. A commit writes every
 * object into `<root>/.staging/<random>/`, fsyncs files and directories, then renames the whole
 * prefix into place — one atomic step, so a crash mid-commit leaves no visible partial bundle
 * (only staging, swept by `recover`). Replicas sharing the directory each stage under a name that
 * says which host and process is writing it, and `recover` sweeps only what no live process
 * owns, so a replica starting never removes another one's commit in progress. Committed files
 * are made read-only; the lock state a
 * bucket would keep (legal hold, retain-until) lives in `<root>/.object-lock/<prefix>lock.json`,
 * outside the objects, so a copied bundle directory holds exactly the bundle.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobError } from './blob-error.js';
import { assertSafeKey, assertSafeRelativePath } from './object-keys.js';
import type { LockState, ObjectInfo, ObjectLock, ObjectPut, ObjectStore, RecoveryReport } from './object-store.js';

const STAGING = '.staging';
const LOCKS = '.object-lock';
/** Staging older than this is swept whoever owns it: no commit takes an hour, and a process on another host cannot be asked. */
export const STALE_STAGING_MS = 3_600_000;

/** This host, as a staging name may hold it (letters, digits and hyphens). */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63) || 'host';

/** `<time base36>.<host>.<pid>.<random>`: when, and which process, so recovery can tell live staging from dead. */
function stagingName(now: number): string {
  return `${now.toString(36)}.${HOST}.${process.pid}.${randomBytes(8).toString('hex')}`;
}

/**
 * Whether a staging entry may be swept: it is not a name this store writes (an older version's,
 * or debris), it is older than any commit, or its process on this host is gone. A process on
 * another host cannot be asked: its staging waits until it is stale.
 */
function abandoned(name: string, now: number): boolean {
  const m = /^([0-9a-z]+)\.([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]+$/.exec(name);
  if (!m) return true;
  if (now - parseInt(m[1]!, 36) > STALE_STAGING_MS) return true;
  if (m[2] !== HOST) return false;
  const pid = Number(m[3]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists (another user's): alive.
    return errno(error) === 'ESRCH';
  }
}

interface LockFile {
  legalHold: boolean;
  retainUntil?: string;
  mode?: 'GOVERNANCE' | 'COMPLIANCE';
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeDurable(path: string, bytes: Uint8Array, flags = 'wx'): Promise<void> {
  const handle = await open(path, flags, 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface FsObjectStoreOptions {
  /** Root directory; created when missing. */
  root: string;
}

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;
  readonly root: string;

  constructor(options: FsObjectStoreOptions) {
    this.root = resolve(options.root);
  }

  /** Absolute path of a key, refusing anything that would resolve outside the root. */
  private pathOf(key: string): string {
    assertSafeKey(key);
    const abs = resolve(this.root, ...key.split('/').filter(Boolean));
    if (!abs.startsWith(this.root + sep)) throw new BlobError('blob.key_invalid', 'object key resolves outside the store');
    return abs;
  }

  private lockPath(prefix: string): string {
    assertSafeKey(prefix);
    return join(this.root, LOCKS, ...prefix.split('/').filter(Boolean), 'lock.json');
  }

  private io(error: unknown, what: string): BlobError {
    if (error instanceof BlobError) return error;
    return new BlobError('blob.unavailable', `${what}: ${(error as Error).message}`, { cause: error });
  }

  async commit(prefix: string, objects: readonly ObjectPut[], lock: ObjectLock): Promise<void> {
    if (!prefix.endsWith('/')) throw new BlobError('blob.key_invalid', 'a commit prefix ends with "/"');
    const target = this.pathOf(prefix);
    for (const o of objects) assertSafeRelativePath(o.path);
    if (objects.length === 0) throw new BlobError('blob.key_invalid', 'a commit needs at least one object');
    if (await this.exists(prefix)) throw new BlobError('blob.exists', `${prefix} is already committed; committed objects are never replaced`);
    const staging = join(this.root, STAGING, stagingName(Date.now()));
    try {
      await mkdir(staging, { recursive: true });
      const dirs = new Set<string>([staging]);
      for (const o of objects) {
        const file = join(staging, ...o.path.split('/'));
        await mkdir(dirname(file), { recursive: true });
        for (let d = dirname(file); d.startsWith(staging); d = dirname(d)) dirs.add(d);
        await writeDurable(file, o.body);
      }
      // Directory entries must be durable too, or a crash after rename could surface empty names.
      for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsyncPath(d);
      await this.writeLock(prefix, { legalHold: lock.legalHold ?? false, ...(lock.retainUntil ? { retainUntil: lock.retainUntil.toISOString(), mode: lock.mode ?? 'COMPLIANCE' } : {}) });
      await mkdir(dirname(target), { recursive: true });
      try {
        // rename() onto an existing non-empty directory fails: a racing commit cannot be replaced.
        await rename(staging, target);
      } catch (error) {
        if (errno(error) === 'ENOTEMPTY' || errno(error) === 'EEXIST') throw new BlobError('blob.exists', `${prefix} appeared while committing; not replacing it`);
        throw error;
      }
      await fsyncPath(dirname(target));
      for (const o of objects) await chmod(join(target, ...o.path.split('/')), 0o444);
    } catch (error) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw this.io(error, `committing ${prefix} failed`);
    }
  }

  async exists(prefix: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(prefix))).isDirectory() || !prefix.endsWith('/');
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return false;
      throw this.io(error, `checking ${prefix} failed`);
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      if (!(await stat(path)).isFile()) throw new BlobError('blob.not_found', `no object ${key}`);
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') throw new BlobError('blob.not_found', `no object ${key}`);
      throw this.io(error, `reading ${key} failed`);
    }
    return createReadStream(path);
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR' || errno(error) === 'EISDIR') throw new BlobError('blob.not_found', `no object ${key}`);
      throw this.io(error, `reading ${key} failed`);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const base = this.pathOf(prefix);
    const out: ObjectInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return;
        throw error;
      }
      for (const e of entries) {
        const abs = join(dir, e.name);
        if (e.isDirectory()) await walk(abs, `${rel}${e.name}/`);
        else if (e.isFile()) out.push({ key: `${prefix}${rel}${e.name}`, size: (await stat(abs)).size });
      }
    };
    try {
      await walk(base, '');
    } catch (error) {
      throw this.io(error, `listing ${prefix} failed`);
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  private async readLock(prefix: string): Promise<LockFile> {
    try {
      return JSON.parse(await readFile(this.lockPath(prefix), 'utf8')) as LockFile;
    } catch (error) {
      if (errno(error) === 'ENOENT') return { legalHold: false };
      throw this.io(error, `reading the lock state of ${prefix} failed`);
    }
  }

  private async writeLock(prefix: string, state: LockFile): Promise<void> {
    const path = this.lockPath(prefix);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeDurable(temp, Buffer.from(`${JSON.stringify(state)}\n`));
    await rename(temp, path);
  }

  async setLegalHold(prefix: string, on: boolean): Promise<void> {
    if (!(await this.exists(prefix))) throw new BlobError('blob.not_found', `nothing is committed under ${prefix}`);
    try {
      await this.writeLock(prefix, { ...(await this.readLock(prefix)), legalHold: on });
    } catch (error) {
      throw this.io(error, `setting the legal hold on ${prefix} failed`);
    }
  }

  async extendRetention(prefix: string, until: Date, mode: ObjectLock['mode'] = 'COMPLIANCE'): Promise<void> {
    const state = await this.readLock(prefix);
    if (state.retainUntil && new Date(state.retainUntil).getTime() >= until.getTime()) return;
    try {
      await this.writeLock(prefix, { ...state, retainUntil: until.toISOString(), mode: state.mode ?? mode });
    } catch (error) {
      throw this.io(error, `extending the retention of ${prefix} failed`);
    }
  }

  async lockState(prefix: string): Promise<LockState> {
    const state = await this.readLock(prefix);
    return { legalHold: state.legalHold, ...(state.retainUntil ? { retainUntil: new Date(state.retainUntil) } : {}) };
  }

  async deletePrefix(prefix: string, now: Date): Promise<number> {
    const target = this.pathOf(prefix);
    const state = await this.lockState(prefix);
    if (state.legalHold) throw new BlobError('blob.locked', `${prefix} is under legal hold`);
    if (state.retainUntil && state.retainUntil.getTime() > now.getTime()) {
      throw new BlobError('blob.locked', `${prefix} is retained until ${state.retainUntil.toISOString()}`);
    }
    const objects = await this.list(prefix);
    try {
      // Move out of sight first, so a crash during removal never leaves a half-deleted bundle visible.
      const trash = join(this.root, STAGING, `deleted-${randomBytes(8).toString('hex')}`);
      await mkdir(dirname(trash), { recursive: true });
      await rename(target, trash);
      await rm(trash, { recursive: true, force: true });
      await rm(this.lockPath(prefix), { force: true });
    } catch (error) {
      if (errno(error) === 'ENOENT') return 0;
      throw this.io(error, `deleting ${prefix} failed`);
    }
    return objects.length;
  }

  async recover(): Promise<RecoveryReport> {
    const staging = join(this.root, STAGING);
    let entries: string[] = [];
    try {
      entries = await readdir(staging);
    } catch (error) {
      if (errno(error) !== 'ENOENT') throw this.io(error, 'reading the staging area failed');
    }
    const now = Date.now();
    const swept = entries.filter((e) => abandoned(e, now));
    for (const e of swept) await rm(join(staging, e), { recursive: true, force: true });
    await mkdir(this.root, { recursive: true });
    return { removedStaging: swept.length };
  }
}
