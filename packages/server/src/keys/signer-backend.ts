/**
 * The key-management seam (SPEC EVI-7): where signing keys are made and kept. The default keeps
 * PKCS#8 files in the data directory; a KMS or HSM implements the same two calls and never
 * hands out private material — the forensics `Signer` it returns signs remotely.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createKeySigner, generateSigningKeyPair, type SignatureAlgorithm, type Signer } from '@stellaops/forensics';

/** Whose key: the platform's, or one tenant's own (EVI-7). */
export type KeyScope = { kind: 'platform' } | { kind: 'tenant'; tenant: string };

export interface SignerBackend {
  /** Creates a new key in `scope` and returns its signer. */
  generate(scope: KeyScope): Promise<Signer>;
  /** The signer of an existing key; rejects when the backend no longer holds it. */
  load(scope: KeyScope, keyId: string): Promise<Signer>;
}

export function scopeDir(root: string, scope: KeyScope): string {
  return scope.kind === 'platform' ? join(root, 'platform') : join(root, 'tenants', scope.tenant);
}

export interface FileSignerBackendOptions {
  /** Directory of key files (`<root>/platform/keys/<keyId>.pem`, `<root>/tenants/<id>/keys/...`). */
  root: string;
  /** Algorithm of new keys. Default `ecdsa-p256-sha256`. */
  algorithm?: SignatureAlgorithm;
}

/** Private keys as 0600 PEM files, written durably before any key ring names them. */
export class FileSignerBackend implements SignerBackend {
  private readonly cache = new Map<string, Signer>();

  constructor(private readonly options: FileSignerBackendOptions) {}

  private file(scope: KeyScope, keyId: string): string {
    if (!/^[0-9a-f]{64}$/.test(keyId)) throw new Error(`malformed key id ${keyId.slice(0, 80)}`);
    return join(scopeDir(this.options.root, scope), 'keys', `${keyId}.pem`);
  }

  async generate(scope: KeyScope): Promise<Signer> {
    const pair = generateSigningKeyPair(this.options.algorithm ?? 'ecdsa-p256-sha256');
    const path = this.file(scope, pair.keyId);
    await mkdir(join(scopeDir(this.options.root, scope), 'keys'), { recursive: true, mode: 0o700 });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(pair.privateKeyPem);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await chmod(path, 0o400);
    const signer = createKeySigner(pair.privateKeyPem);
    this.cache.set(path, signer);
    return signer;
  }

  async load(scope: KeyScope, keyId: string): Promise<Signer> {
    const path = this.file(scope, keyId);
    const cached = this.cache.get(path);
    if (cached) return cached;
    const signer = createKeySigner(await readFile(path, 'utf8'));
    if (signer.keyId !== keyId) throw new Error(`key file ${keyId}.pem holds key ${signer.keyId}`);
    this.cache.set(path, signer);
    return signer;
  }
}
