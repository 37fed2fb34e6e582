/**
 * Bearer-token verification (AUTH-1): JWTs signed by StellaOps Authority, checked with `jose`
 * against its JWKS — fetched from a URL, read from a file (air-gapped), or the development
 * authority's. Failures become 401s that say what was wrong, never which key material exists.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ServiceError } from '../errors.js';
import { ScopeSet } from './scopes.js';

export interface Principal {
  /** `sub`: who is calling (a user or service id). */
  subject: string;
  scopes: ScopeSet;
  rawScopes: readonly string[];
  /** `exp`, in ms since the epoch. */
  expiresAtMs: number;
}

export type JwksSource = { url: string } | { file: string } | { keys: JSONWebKeySet };

export interface TokenVerifierOptions {
  jwks: JwksSource;
  /** Required `iss`. Default: not checked. */
  issuer?: string;
  /** Required `aud`. */
  audience: string;
  /** Allowed clock skew in seconds. Default 30. */
  clockToleranceSec?: number;
  /** Clock, for tests. Default `Date.now`. */
  clock?: () => number;
}

const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

/** The authority's key set could not be had (network, timeout, an answer that is not a key set): not the token's fault. */
class AuthorityKeysError extends Error {
  override readonly name = 'AuthorityKeysError';
}

/**
 * A remote key set whose own failures are told apart from the token's by where they happen:
 * anything the key set throws other than "no (single) key matches the token" is the authority's.
 */
function remoteKeys(url: URL): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
      throw new AuthorityKeysError(`the key set at ${url.origin} could not be fetched`, { cause: error });
    }
  };
}

export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly clock: () => number;

  constructor(private readonly options: TokenVerifierOptions) {
    const src = options.jwks;
    if ('url' in src) this.keys = remoteKeys(new URL(src.url));
    else if ('file' in src) this.keys = createLocalJWKSet(JSON.parse(readFileSync(src.file, 'utf8')) as JSONWebKeySet);
    else this.keys = createLocalJWKSet(src.keys);
    this.clock = options.clock ?? Date.now;
  }

  /** Verifies an `Authorization` header value; throws a 401 `ServiceError` explaining why not. */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header) throw new ServiceError('auth.token_missing', 'send a bearer token: Authorization: Bearer <jwt>');
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(header);
    if (!m) throw new ServiceError('auth.token_invalid', 'the Authorization header must be "Bearer <jwt>" with a compact JWS token');
    return this.verify(m[1]!);
  }

  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ALGORITHMS,
        audience: this.options.audience,
        issuer: this.options.issuer,
        clockTolerance: this.options.clockToleranceSec ?? 30,
        currentDate: new Date(this.clock()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw toAuthError(error);
    }
    const rawScopes = scopesOf(payload);
    return { subject: String(payload['sub']), scopes: new ScopeSet(rawScopes), rawScopes, expiresAtMs: Number(payload['exp']) * 1000 };
  }
}

function scopesOf(payload: Record<string, unknown>): string[] {
  const scope = payload['scope'];
  if (typeof scope === 'string') return scope.split(/\s+/).filter(Boolean);
  const scp = payload['scp'];
  if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string');
  return [];
}

function toAuthError(error: unknown): ServiceError {
  if (error instanceof joseErrors.JWTExpired) return new ServiceError('auth.token_expired', 'the token has expired; request a new one from the authority');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new ServiceError('auth.token_invalid', `the token's "${error.claim}" claim is not acceptable (${error.reason})`);
  }
  if (error instanceof AuthorityKeysError) {
    return new ServiceError('auth.authority_unavailable', 'the authority key set could not be fetched; try again', { cause: error });
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new ServiceError('auth.token_invalid', 'the token signature does not verify against the trusted authority keys');
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new ServiceError('auth.token_invalid', `the token algorithm is not accepted; use one of ${ALGORITHMS.join(', ')}`);
  return new ServiceError('auth.token_invalid', 'the token is malformed or not a signed JWT');
}
