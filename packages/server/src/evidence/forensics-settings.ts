/**
 * Settings of the evidence locker, keys and attestations, resolved once from the environment
 * (the service-wide `ServiceConfig` does not carry them yet). Unset values give the embedded
 * defaults: file-system store under the data directory, platform key in the data directory.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type ServiceConfig } from '../config.js';
import type { ObjectStoreSettings } from '../blob/open-object-store.js';
import { RETENTION_BOUNDS } from '../retention/policy.js';

export interface ForensicsSettings {
  /** `STELLA_EVIDENCE_BACKEND` (fs|s3), `STELLA_EVIDENCE_DIR`, `STELLA_EVIDENCE_S3_BUCKET`, `_ENDPOINT`, `_REGION`, `_PREFIX`, `_PATH_STYLE`. */
  objectStore: ObjectStoreSettings;
  /** S3 Object Lock mode. Default `COMPLIANCE` (`STELLA_EVIDENCE_LOCK_MODE`). */
  lockMode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Days evidence is kept for tenants without their own setting. Default 180, 90-3650 (`STELLA_EVIDENCE_RETENTION_DAYS`; retention/policy.ts). */
  retentionDays: number;
  /** Interval of the pruning job in ms. Default 3600000 (`STELLA_EVIDENCE_PRUNE_INTERVAL_MS`). */
  pruneIntervalMs: number;
  /** Directory of key rings and key files. Default `<dataDir>/keys` (`STELLA_EVIDENCE_KEYS_DIR`). */
  keysDir: string;
  /** A key ring per tenant (EVI-7). Default false (`STELLA_EVIDENCE_TENANT_KEYS`). */
  tenantKeys: boolean;
  /** RFC 3161 TSA URL; absent → no timestamps (`STELLA_EVIDENCE_TSA_URL`). Evidence bundles and forensic captures both use it. */
  tsaUrl: string | undefined;
  /**
   * PEM certificates the service trusts as TSA roots when it verifies (`STELLA_EVIDENCE_TSA_CA`:
   * one or more PEM files, comma-separated). With them a bundle's signing time is reported as
   * proven (`tsa`); without them it is `asserted`, whatever the bundle carries.
   */
  tsaTrustAnchors: string[];
}

type Env = Record<string, string | undefined>;

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function bool(name: string, value: string | undefined): boolean {
  if (value === undefined || /^(0|false|no|off|)$/i.test(value)) return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

export function resolveForensicsSettings(config: ServiceConfig, env: Env = process.env): ForensicsSettings {
  const backend = env['STELLA_EVIDENCE_BACKEND'] || 'fs';
  if (backend !== 'fs' && backend !== 's3') throw new ConfigError(`STELLA_EVIDENCE_BACKEND must be fs or s3, got "${backend}"`);
  const bucket = env['STELLA_EVIDENCE_S3_BUCKET'] || undefined;
  if (backend === 's3' && !bucket) throw new ConfigError('STELLA_EVIDENCE_S3_BUCKET is required with STELLA_EVIDENCE_BACKEND=s3 (a bucket with Object Lock enabled)');
  const endpoint = env['STELLA_EVIDENCE_S3_ENDPOINT'] || undefined;
  const lockMode = (env['STELLA_EVIDENCE_LOCK_MODE'] || 'COMPLIANCE').toUpperCase();
  if (lockMode !== 'GOVERNANCE' && lockMode !== 'COMPLIANCE') throw new ConfigError(`STELLA_EVIDENCE_LOCK_MODE must be GOVERNANCE or COMPLIANCE, got "${lockMode}"`);
  const tsaUrl = env['STELLA_EVIDENCE_TSA_URL'] || undefined;
  for (const [name, url] of [['STELLA_EVIDENCE_TSA_URL', tsaUrl], ['STELLA_EVIDENCE_S3_ENDPOINT', endpoint]] as const) {
    if (!url) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`${name} "${url}" is not a URL`);
    }
    if (config.sealed && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
      throw new ConfigError(`the installation is sealed: ${name} must be a loopback address`);
    }
  }
  return {
    objectStore: {
      backend,
      ...(env['STELLA_EVIDENCE_DIR'] ? { dir: resolve(env['STELLA_EVIDENCE_DIR']) } : {}),
      ...(bucket ? { bucket } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(env['STELLA_EVIDENCE_S3_REGION'] ? { region: env['STELLA_EVIDENCE_S3_REGION'] } : {}),
      ...(env['STELLA_EVIDENCE_S3_PREFIX'] ? { keyPrefix: env['STELLA_EVIDENCE_S3_PREFIX'] } : {}),
      ...(env['STELLA_EVIDENCE_S3_PATH_STYLE'] !== undefined ? { forcePathStyle: bool('STELLA_EVIDENCE_S3_PATH_STYLE', env['STELLA_EVIDENCE_S3_PATH_STYLE']) } : {}),
    },
    lockMode,
    retentionDays: int('STELLA_EVIDENCE_RETENTION_DAYS', env['STELLA_EVIDENCE_RETENTION_DAYS'], 180, RETENTION_BOUNDS.evidence.min, RETENTION_BOUNDS.evidence.max),
    pruneIntervalMs: int('STELLA_EVIDENCE_PRUNE_INTERVAL_MS', env['STELLA_EVIDENCE_PRUNE_INTERVAL_MS'], 3_600_000, 1000, 86_400_000),
    keysDir: env['STELLA_EVIDENCE_KEYS_DIR'] ? resolve(env['STELLA_EVIDENCE_KEYS_DIR']) : join(config.dataDir, 'keys'),
    tenantKeys: bool('STELLA_EVIDENCE_TENANT_KEYS', env['STELLA_EVIDENCE_TENANT_KEYS']),
    tsaUrl,
    tsaTrustAnchors: (env['STELLA_EVIDENCE_TSA_CA'] || '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        try {
          const pem = readFileSync(resolve(p), 'utf8');
          if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('no PEM certificate in it');
          return pem;
        } catch (error) {
          throw new ConfigError(`STELLA_EVIDENCE_TSA_CA: cannot use ${p}: ${(error as Error).message}`);
        }
      }),
  };
}
