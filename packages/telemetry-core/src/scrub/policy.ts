/**
 * Scrub policy: what the caller configures, and the compiled form the hot path uses.
 * Compilation resolves sets and lowercase lists once so a log call never rebuilds them.
 */
import { BUILT_IN_ALLOW_KEYS, BUILT_IN_MAX_STRING_LENGTH, BUILT_IN_REDACT_KEYS } from '../policy/telemetry-policy.js';
import { ScrubError } from './errors.js';

/** Keys that pass untouched by default (the policy format's built-in allowlist). */
export const DEFAULT_ALLOW_KEYS: readonly string[] = BUILT_IN_ALLOW_KEYS;

/**
 * Key substrings whose values are redacted whatever they look like (case-insensitive, any
 * depth): the policy format's built-in list.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = BUILT_IN_REDACT_KEYS;

/** Default cap on one string; longer strings are truncated so scrubbing cost stays bounded. */
export const DEFAULT_MAX_STRING_LENGTH = BUILT_IN_MAX_STRING_LENGTH;

export interface ScrubPolicy {
  /**
   * Keys (exact match, case-insensitive) whose values pass untouched, at any depth. Added to
   * `DEFAULT_ALLOW_KEYS`. An allowlisted key wins over a key rule (e.g. `token_count`).
   */
  allowKeys?: string[];
  /** Extra key substrings (case-insensitive) whose values are always redacted. */
  redactKeys?: string[];
  /**
   * Repository root: absolute paths inside it are rewritten repo-relative, paths outside known
   * system roots are redacted. Default: `process.cwd()`.
   */
  repoRoot?: string;
  /**
   * Keyed-hash mode: when set, markers become `[REDACTED:<class>:<hmac-sha256, 12 hex>]`, so
   * equal values stay correlatable across lines without being disclosed. Default: off.
   */
  hashKey?: string | Buffer;
  /** Tenant whose deep-debug grant applies. Default: the active context's `tenant_id`. */
  tenantId?: string;
  /** Longest string kept, in UTF-16 code units; longer ones are cut. Default: 32768. */
  maxStringLength?: number;
}

/** Per-key decision, cached: the hot path pays one Map lookup per key. */
export interface KeyInfo {
  /** Allowlisted: value passes untouched. */
  readonly allowed: boolean;
  /** A key rule matches: value is replaced by a marker. */
  readonly sensitive: boolean;
  /** The key itself may hold something to redact (it passes the text prefilter). */
  readonly scrubKey: boolean;
}

/** Beyond this many distinct keys the cache stops growing (dynamic keys must not leak memory). */
export const KEY_CACHE_LIMIT = 4096;

const COMPILED = Symbol('stellaops.scrub.compiled');
export interface CompiledScrubPolicy {
  readonly [COMPILED]: true;
  readonly allowKeys: ReadonlySet<string>;
  readonly redactKeys: readonly string[];
  /** The caller's own `redactKeys` (lowercase); also applied to keys found in free text. */
  readonly extraRedactKeys: readonly string[];
  /** Normalised repo root without trailing separator, or undefined when disabled. */
  readonly repoRoot: string | undefined;
  readonly hashKey: Buffer | undefined;
  readonly tenantId: string | undefined;
  readonly maxStringLength: number;
  /** Matches the repo root at a path boundary (optionally behind `file://`); undefined when off. */
  readonly repoRootPattern: RegExp | undefined;
  /** @internal */
  readonly keyCache: Map<string, KeyInfo>;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new ScrubError('SCRUB_POLICY_INVALID', `scrub policy: "${field}" must be a list of non-empty strings`);
  }
  return value.map((v: string) => v.trim().toLowerCase());
}

function normaliseRoot(root: string | undefined): string | undefined {
  if (root === undefined) return undefined;
  if (typeof root !== 'string') {
    throw new ScrubError('SCRUB_POLICY_INVALID', 'scrub policy: "repoRoot" must be a string');
  }
  const trimmed = root.replace(/[\\/]+$/, '');
  // A root of "/" or "C:" would make every path "repo-relative" and disclose it.
  return trimmed.length > 2 ? trimmed : undefined;
}

/** Resolves a policy once: sets, lowercase lists, defaults. Throws SCRUB_POLICY_INVALID. */
export function compileScrubPolicy(policy: ScrubPolicy = {}): CompiledScrubPolicy {
  if (isCompiled(policy)) return policy;
  if (policy === null || typeof policy !== 'object') {
    throw new ScrubError('SCRUB_POLICY_INVALID', 'scrub policy must be an object');
  }
  const max = policy.maxStringLength ?? DEFAULT_MAX_STRING_LENGTH;
  if (!Number.isInteger(max) || max < 64) {
    throw new ScrubError('SCRUB_POLICY_INVALID', 'scrub policy: "maxStringLength" must be an integer ≥ 64');
  }
  const hk = policy.hashKey;
  if (hk !== undefined && !(typeof hk === 'string' && hk.length > 0) && !(Buffer.isBuffer(hk) && hk.length > 0)) {
    throw new ScrubError('SCRUB_POLICY_INVALID', 'scrub policy: "hashKey" must be a non-empty string or Buffer');
  }
  if (policy.tenantId !== undefined && typeof policy.tenantId !== 'string') {
    throw new ScrubError('SCRUB_POLICY_INVALID', 'scrub policy: "tenantId" must be a string');
  }
  const repoRoot = normaliseRoot(policy.repoRoot ?? process.cwd());
  const extraRedactKeys = stringList(policy.redactKeys, 'redactKeys');
  return {
    [COMPILED]: true,
    allowKeys: new Set([...DEFAULT_ALLOW_KEYS, ...stringList(policy.allowKeys, 'allowKeys')]),
    redactKeys: [...new Set([...DEFAULT_REDACT_KEYS, ...extraRedactKeys])],
    extraRedactKeys,
    repoRoot,
    repoRootPattern: repoRoot === undefined ? undefined : rootPattern(repoRoot),
    hashKey: hk === undefined ? undefined : Buffer.isBuffer(hk) ? Buffer.from(hk) : Buffer.from(hk, 'utf8'),
    tenantId: policy.tenantId,
    maxStringLength: max,
    keyCache: new Map(),
  };
}

function rootPattern(root: string): RegExp {
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Only at a path boundary: "/srv/app" must not match inside "/srv/application".
  return new RegExp(`(?<![\\w.~\\-/\\\\])(?:file://)?${escaped}(?:[\\\\/]+|(?![\\w.~\\-]))`, 'g');
}

export function isCompiled(policy: unknown): policy is CompiledScrubPolicy {
  return typeof policy === 'object' && policy !== null && COMPILED in policy;
}

const compiledCache = new WeakMap<ScrubPolicy, CompiledScrubPolicy>();
let defaultCompiled: CompiledScrubPolicy | undefined;

/** Accepts either form; plain objects are compiled once and cached by identity. */
export function resolvePolicy(policy: ScrubPolicy | CompiledScrubPolicy | undefined): CompiledScrubPolicy {
  if (policy === undefined) return (defaultCompiled ??= compileScrubPolicy());
  if (isCompiled(policy)) return policy;
  let compiled = compiledCache.get(policy);
  if (!compiled) {
    compiled = compileScrubPolicy(policy);
    compiledCache.set(policy, compiled);
  }
  return compiled;
}
