/**
 * Signing keys of the evidence locker (SPEC EVI-3, EVI-7): a platform key ring created in the
 * data directory on first start, optional per-tenant key rings, and rotation recorded in each
 * ring's signed, hash-chained rotation log (the forensics `Keyring`). The ring files hold only
 * public material; private keys stay with the `SignerBackend`.
 *
 * Replicas sharing the key directory act on one ring (SCALE-1): a ring read from its file is
 * used for at most `refreshMs` (default 500 ms) before the file is checked again and re-read
 * when it changed, so a rotation through one replica signs on every replica within a second;
 * a ring is created with an exclusive link (of replicas starting together, one ring wins and all
 * use it), and a rotation holds the ring's lock file while it reads, rotates and replaces it, so
 * rotations through two replicas at once both land in the log, one after the other.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { Keyring, type KeyringDocument, type KeyRecord, type Signer } from '@stellaops/forensics';
import { scopeDir, type KeyScope, type SignerBackend } from './signer-backend.js';
import type { CodesOf } from '../errors.js';

export interface KeyManagerOptions {
  /** Directory of the key ring files (`<dir>/platform/keyring.json`, `<dir>/tenants/<id>/keyring.json`). */
  dir: string;
  backend: SignerBackend;
  /** Give each tenant its own key ring, created on first use. Default false: the platform key signs for everyone. */
  tenantKeys?: boolean;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
  /** How long a ring read from its file is used before the file is checked again, in ms. Default 500. */
  refreshMs?: number;
}

/** A ring as read from its file, and the file's identity then. */
interface LoadedRing {
  ring: Keyring;
  stamp: string | undefined;
  /** `performance.now()` of the last check against the file. */
  checkedAt: number;
}

/** A rotation waits this long for another process's rotation of the same ring. */
const LOCK_WAIT_MS = 10_000;
/** A lock file older than this was left by a process that died while rotating. */
const LOCK_STALE_MS = 60_000;

/** The file's identity: a rename (every save) changes the inode, a rewrite its size or time. */
async function stampOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyManagerError('keys.unavailable', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export interface ActiveKey {
  scope: KeyScope;
  signer: Signer;
  keyring: Keyring;
}

export interface RotationResult {
  scope: KeyScope;
  previous_key_id: string;
  key_id: string;
  at: string;
}

/** `keys.*` of errors.ts. */
export type KeyManagerErrorCode = CodesOf<'keys'>;

export class KeyManagerError extends Error {
  override readonly name = 'KeyManagerError';
  constructor(
    readonly code: KeyManagerErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

function key(scope: KeyScope): string {
  return scope.kind === 'platform' ? 'platform' : `tenant:${scope.tenant}`;
}

export class KeyManager {
  private readonly rings = new Map<string, LoadedRing>();
  private readonly loading = new Map<string, Promise<Keyring>>();
  // Rotations of one ring run one at a time; readers keep using the ring they hold.
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly clock: () => number;
  private readonly refreshMs: number;

  constructor(private readonly options: KeyManagerOptions) {
    this.clock = options.clock ?? Date.now;
    this.refreshMs = options.refreshMs ?? 500;
  }

  get tenantKeys(): boolean {
    return this.options.tenantKeys ?? false;
  }

  /** The scope whose key signs for `tenant`. */
  scopeFor(tenant: string): KeyScope {
    return this.tenantKeys ? { kind: 'tenant', tenant } : { kind: 'platform' };
  }

  private file(scope: KeyScope): string {
    return join(scopeDir(this.options.dir, scope), 'keyring.json');
  }

  /** Loads (or on first use creates) the key ring of `scope`: the file's, checked at most `refreshMs` ago. */
  keyring(scope: KeyScope): Promise<Keyring> {
    const k = key(scope);
    const loaded = this.rings.get(k);
    if (loaded && performance.now() - loaded.checkedAt < this.refreshMs) return Promise.resolve(loaded.ring);
    let load = this.loading.get(k);
    if (!load) {
      load = this.load(scope, loaded).finally(() => this.loading.delete(k));
      this.loading.set(k, load);
    }
    return load;
  }

  /** The ring in the file (re-read only when the file changed since `loaded`), or a new one when there is none. */
  private async load(scope: KeyScope, loaded: LoadedRing | undefined): Promise<Keyring> {
    const path = this.file(scope);
    const checkedAt = performance.now();
    const stamp = await stampOf(path);
    if (loaded && stamp !== undefined && stamp === loaded.stamp) {
      loaded.checkedAt = checkedAt;
      return loaded.ring;
    }
    const ring = stamp === undefined ? await this.create(scope) : await this.read(path);
    this.rings.set(key(scope), { ring, stamp: stamp ?? (await stampOf(path)), checkedAt });
    return ring;
  }

  private async read(path: string): Promise<Keyring> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new KeyManagerError('keys.unavailable', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return Keyring.fromJSON(text);
    } catch (error) {
      throw new KeyManagerError('keys.unavailable', `the key ring ${path} does not verify: ${(error as Error).message}`, { cause: error });
    }
  }

  /** A first ring, linked into place only if there is none yet: a ring another process created first wins. */
  private async create(scope: KeyScope): Promise<Keyring> {
    const path = this.file(scope);
    const signer = await this.options.backend.generate(scope);
    const ring = await Keyring.create({ signer, at: new Date(this.clock()) });
    const temp = await this.writeTemp(path, ring);
    try {
      await link(temp, path);
      return ring;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return this.read(path);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private async writeTemp(path: string, ring: Keyring): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(ring.toJSON(), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  private async save(scope: KeyScope, ring: Keyring): Promise<void> {
    const path = this.file(scope);
    await rename(await this.writeTemp(path, ring), path);
  }

  /** Runs `fn` holding the ring's lock file (`keyring.json.lock`), shared by every process using the directory. */
  private async locked<T>(scope: KeyScope, fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file(scope)}.lock`;
    await mkdir(dirname(lock), { recursive: true });
    const deadline = performance.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, 'wx', 0o644);
        await handle.writeFile(`${process.pid}\n`).finally(() => handle.close());
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyManagerError('keys.unavailable', `cannot lock ${lock}: ${(error as Error).message}`, { cause: error });
        const held = await stat(lock).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await unlink(lock).catch(() => undefined);
        else if (performance.now() > deadline) throw new KeyManagerError('keys.unavailable', `the key ring is being rotated by another process (${lock}); try again`);
        else await delay(25);
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  /** The key valid now in `ring` (the newest one added that is neither retired nor revoked). */
  private current(ring: Keyring, at: Date): KeyRecord {
    const valid = ring.keys().filter((r) => ring.checkKey(r.keyId, at).ok);
    const record = valid.at(-1);
    if (!record) throw new KeyManagerError('keys.unavailable', 'no key in the key ring is valid now; rotate to add one');
    return record;
  }

  /** The signer for `tenant`'s evidence at time `at` (default now), with its ring. */
  async activeKey(tenant: string, at?: Date): Promise<ActiveKey> {
    const scope = this.scopeFor(tenant);
    await this.queues.get(key(scope));
    const keyring = await this.keyring(scope);
    // "Now" is after the ring is loaded: a ring made by this very call holds no key valid before it.
    const record = this.current(keyring, at ?? new Date(this.clock()));
    try {
      return { scope, keyring, signer: await this.options.backend.load(scope, record.keyId) };
    } catch (error) {
      throw new KeyManagerError('keys.unavailable', `the signing key ${record.keyId} cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Rotates `scope`: a new key is made, added by the current key and the current key retired,
   * both in the signed log, effective now. Earlier signatures stay valid (retire, not revoke).
   */
  rotate(scope: KeyScope): Promise<RotationResult> {
    const k = key(scope);
    const run = (this.queues.get(k) ?? Promise.resolve()).catch(() => undefined).then(() => this.locked(scope, async () => {
      // The ring as the file holds it now (checked, not cached): another replica may have rotated it a moment ago.
      const ring = await this.load(scope, this.rings.get(k));
      // The log never goes backwards in time, even if the clock does.
      const last = ring.entries().at(-1);
      const at = new Date(Math.max(this.clock(), last ? new Date(last.at).getTime() : 0));
      const previous = this.current(ring, at);
      const signer = await this.options.backend.load(scope, previous.keyId);
      const next = await this.options.backend.generate(scope);
      // Rotate a copy, save it, then swap it in: a failed save leaves the served ring unchanged.
      const copy = Keyring.fromJSON(ring.toJSON());
      await copy.rotate(next.publicKeyPem, { signer, at });
      await this.save(scope, copy);
      this.rings.set(k, { ring: copy, stamp: await stampOf(this.file(scope)), checkedAt: performance.now() });
      return { scope, previous_key_id: previous.keyId, key_id: next.keyId, at: at.toISOString() };
    }));
    this.queues.set(k, run);
    return run;
  }

  /** The public key ring a verifier of `tenant`'s evidence needs. */
  async document(tenant: string): Promise<{ scope: KeyScope; document: KeyringDocument; keyring: Keyring }> {
    const scope = this.scopeFor(tenant);
    const keyring = await this.keyring(scope);
    return { scope, document: keyring.toJSON(), keyring };
  }
}
