/**
 * The object layout (SPEC EVI-1), built only from validated ids so no key can leave its
 * tenant's prefix: `tenants/<tenant>/evidence/<case>/<bundle>/...`,
 * `tenants/<tenant>/attestations/<subject>/...` and content-addressed uploads under
 * `tenants/<tenant>/artifacts/sha256/<hex>`.
 */
import { isValidTenantId } from '@stellaops/telemetry-core';
import { BlobError } from './blob-error.js';

/** One path segment: letters, digits, ".", "_", "-", starting with a letter or digit; never "." or "..". */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidSegment(value: unknown): value is string {
  return typeof value === 'string' && SEGMENT.test(value) && !value.includes('..');
}

function segment(value: string, what: string): string {
  if (!isValidSegment(value)) {
    throw new BlobError('blob.key_invalid', `${what} must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit, without ".."`);
  }
  return value;
}

function tenant(value: string): string {
  if (!isValidTenantId(value)) throw new BlobError('blob.key_invalid', 'tenant id must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
  return value;
}

export function tenantPrefix(tenantId: string): string {
  return `tenants/${tenant(tenantId)}/`;
}

export function evidencePrefix(tenantId: string, caseId: string, bundleId: string): string {
  return `${tenantPrefix(tenantId)}evidence/${segment(caseId, 'case id')}/${segment(bundleId, 'bundle id')}/`;
}

export function caseEvidencePrefix(tenantId: string, caseId: string): string {
  return `${tenantPrefix(tenantId)}evidence/${segment(caseId, 'case id')}/`;
}

export function attestationPrefix(tenantId: string, subjectId: string, attestationId: string): string {
  return `${tenantPrefix(tenantId)}attestations/${segment(subjectId, 'subject id')}/${segment(attestationId, 'attestation id')}/`;
}

export function artifactKey(tenantId: string, sha256Hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new BlobError('blob.key_invalid', 'artifact digest must be 64 lowercase hex digits');
  return `${tenantPrefix(tenantId)}artifacts/sha256/${sha256Hex}`;
}

/**
 * Checks a key or prefix handed to a backend: relative, "/"-separated, under `tenants/<id>/`,
 * no empty, "." or ".." segments, no backslashes or control characters.
 */
export function assertSafeKey(key: string): void {
  const bad = (why: string): never => {
    throw new BlobError('blob.key_invalid', `object key ${JSON.stringify(key.slice(0, 200))} ${why}`);
  };
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) bad('must be 1-1024 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(key)) bad('contains a backslash or control character');
  if (key.startsWith('/')) bad('must be relative');
  const parts = key.split('/');
  if (parts[0] !== 'tenants' || !isValidTenantId(parts[1]) || parts.length < 3) bad('must start with tenants/<tenant>/');
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    if (p === '' && !last) bad('has an empty segment');
    if (p === '.' || p === '..') bad('has a "." or ".." segment');
  });
}

/** Checks a path inside a committed prefix (`files/sbom/x.json`). */
export function assertSafeRelativePath(path: string): void {
  // eslint-disable-next-line no-control-regex
  if (!path || path.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(path) || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new BlobError('blob.key_invalid', `object path ${JSON.stringify(path.slice(0, 200))} is not a safe relative path`);
  }
}
