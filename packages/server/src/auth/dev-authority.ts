/**
 * The development authority: a signing key kept in the data directory so a single-machine
 * install works without StellaOps Authority. It is labelled as such everywhere (issuer
 * `stella-dev-authority`, a warning at start); production sets STELLA_AUTH_JWKS_URL or
 * STELLA_AUTH_JWKS_FILE, and then this key is neither created nor trusted.
 *
 * Layout (read by `stella auth token --data-dir`): `<dataDir>/authority/dev-signing-key.jwk`
 * holds the private JWK (ES256, with `kid` and `alg`), mode 0600.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { createHash } from 'node:crypto';

export const DEV_AUTHORITY_ISSUER = 'stella-dev-authority';
export const DEFAULT_AUDIENCE = 'stella-observability';
export const DEV_KEY_FILE = join('authority', 'dev-signing-key.jwk');

export interface MintOptions {
  /** Tenant the short scopes (`timeline:read`) are bound to. */
  tenant?: string;
  /** Full scopes (`stella:timeline:read#tenant/acme`) or short ones (`timeline:read`, bound to `tenant`). */
  scopes: readonly string[];
  /** Lifetime in seconds. Default 3600. */
  ttlSeconds?: number;
  /** `sub` claim. Default `dev-user`. */
  subject?: string;
  /** `aud` claim. Default `stella-observability`. */
  audience?: string;
  /** Issue time in ms. Default `Date.now()`. */
  now?: number;
}

export class DevAuthority {
  private constructor(
    private readonly privateJwk: JWK,
    readonly jwks: { keys: JWK[] },
  ) {}

  get kid(): string {
    return this.privateJwk.kid!;
  }

  /** Loads the key from `<dataDir>/authority/`, creating it on first use. */
  static async open(dataDir: string): Promise<DevAuthority> {
    const file = join(dataDir, DEV_KEY_FILE);
    if (!existsSync(file)) {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url').slice(0, 16);
      mkdirSync(join(dataDir, 'authority'), { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
    return DevAuthority.fromPrivateJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK);
  }

  static fromPrivateJwk(jwk: JWK): DevAuthority {
    const { d: _secret, ...publicJwk } = jwk;
    return new DevAuthority(jwk, { keys: [publicJwk] });
  }

  async mint(options: MintOptions): Promise<string> {
    return mintDevToken(this.privateJwk, options);
  }
}

/** Expands short scopes and signs a token with the development key. */
export async function mintDevToken(privateJwk: JWK, options: MintOptions): Promise<string> {
  const scopes = options.scopes.map((s) => {
    if (s.startsWith('stella:')) return s;
    if (!options.tenant) throw new Error(`scope "${s}" is short; give --tenant or write it in full (stella:${s}#tenant/<id>)`);
    return `stella:${s}#tenant/${options.tenant}`;
  });
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const key = await importJWK(privateJwk, privateJwk.alg ?? 'ES256');
  return new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: privateJwk.alg ?? 'ES256', kid: privateJwk.kid, typ: 'JWT' })
    .setIssuer(DEV_AUTHORITY_ISSUER)
    .setAudience(options.audience ?? DEFAULT_AUDIENCE)
    .setSubject(options.subject ?? 'dev-user')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .sign(key);
}
