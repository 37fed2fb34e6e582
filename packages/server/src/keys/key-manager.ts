/**
 * Signing keys of the evidence locker (SPEC EVI-3, EVI-7): a platform key ring created in the
 * data directory on first start, optional per-tenant key rings, and rotation recorded in each
 * ring's signed, hash-chained rotation log (the forensics `Keyring`). The ring files hold only
 * public material; private keys stay with the `SignerBackend`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
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
  private readonly rings = new Map<string, Promise<Keyring>>();
  // Rotations of one ring run one at a time; readers keep using the ring they hold.
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly clock: () => number;

  constructor(private readonly options: KeyManagerOptions) {
    this.clock = options.clock ?? Date.now;
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

  /** Loads (or on first use creates) the key ring of `scope`. */
  keyring(scope: KeyScope): Promise<Keyring> {
    const k = key(scope);
    let ring = this.rings.get(k);
    if (!ring) {
      ring = this.openRing(scope).catch((error: unknown) => {
        this.rings.delete(k);
        throw error;
      });
      this.rings.set(k, ring);
    }
    return ring;
  }

  private async openRing(scope: KeyScope): Promise<Keyring> {
    const path = this.file(scope);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyManagerError('keys.unavailable', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (text !== undefined) {
      try {
        return Keyring.fromJSON(text);
      } catch (error) {
        throw new KeyManagerError('keys.unavailable', `the key ring ${path} does not verify: ${(error as Error).message}`, { cause: error });
      }
    }
    const signer = await this.options.backend.generate(scope);
    const ring = await Keyring.create({ signer, at: new Date(this.clock()) });
    await this.save(scope, ring);
    return ring;
  }

  private async save(scope: KeyScope, ring: Keyring): Promise<void> {
    const path = this.file(scope);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(ring.toJSON(), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }

  /** The key valid now in `ring` (the newest one added that is neither retired nor revoked). */
  private current(ring: Keyring, at: Date): KeyRecord {
    const valid = ring.keys().filter((r) => ring.checkKey(r.keyId, at).ok);
    const record = valid.at(-1);
    if (!record) throw new KeyManagerError('keys.unavailable', 'no key in the key ring is valid now; rotate to add one');
    return record;
  }

  /** The signer for `tenant`'s evidence at time `at` (default now), with its ring. */
  async activeKey(tenant: string, at: Date = new Date(this.clock())): Promise<ActiveKey> {
    const scope = this.scopeFor(tenant);
    await this.queues.get(key(scope));
    const keyring = await this.keyring(scope);
    const record = this.current(keyring, at);
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
    const run = (this.queues.get(k) ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const ring = await this.keyring(scope);
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
      this.rings.set(k, Promise.resolve(copy));
      return { scope, previous_key_id: previous.keyId, key_id: next.keyId, at: at.toISOString() };
    });
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
