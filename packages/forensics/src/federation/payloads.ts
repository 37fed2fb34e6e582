/**
 * Federation payloads (FED-2): a consent proof and an aggregate bundle, each the canonical JSON
 * (RFC 8785) of exactly these members:
 *
 *   consent  {consentId, tenantId, grantedBy, grantedAt, expiresAt, purpose}
 *   bundle   {bundleId, consentDigest, createdAt, buckets: [{cveId, noisyCount, artifactCount, observationCount}]}
 *
 * Buckets are ordered by cveId (ordinal: UTF-16 code units), then noisyCount descending, then
 * artifactCount and observationCount ascending. bundleId is `sha256:` + the hex SHA-256 of the
 * canonical JSON of the payload without bundleId — so it derives from the content and the fixed
 * clock input createdAt, and the same logical input gives the same bytes and id. consentDigest
 * is the digest of the consent envelope's canonical JSON (envelope.ts).
 *
 * Aggregation: an observation is one finding — a vulnerability id (`cveId`) seen in one artifact,
 * noisy or not. A bucket counts, per cveId, the observations, the distinct artifacts and the
 * noisy observations; buckets seen in fewer than `minArtifacts` artifacts (k-anonymity, default
 * 5) are left out, so no bucket can single out a rare artifact of the sharing installation.
 */
import { createHash } from 'node:crypto';
import { decodeBase64 } from '../encoding/base64.js';
import { jcs } from '../encoding/jcs.js';
import { FederationError } from './errors.js';
import {
  FEDERATION_BUNDLE_PAYLOAD_TYPE,
  FEDERATION_CONSENT_PAYLOAD_TYPE,
  federationEnvelopeDigest,
  parseFederationEnvelope,
  signFederationEnvelope,
  type FederationEnvelope,
  type FederationSignOptions,
} from './envelope.js';

export interface FederationConsent {
  readonly consentId: string;
  readonly tenantId: string;
  readonly grantedBy: string;
  /** RFC 3339 UTC (`2026-01-01T00:00:00.000Z`). */
  readonly grantedAt: string;
  readonly expiresAt: string;
  readonly purpose: string;
}

export interface FederationBucket {
  readonly cveId: string;
  readonly noisyCount: number;
  readonly artifactCount: number;
  readonly observationCount: number;
}

export interface FederationBundlePayload {
  readonly bundleId: string;
  readonly consentDigest: string;
  readonly createdAt: string;
  readonly buckets: readonly FederationBucket[];
}

/** One finding: a vulnerability seen in one artifact; noisy when its VEX status says it does not apply. */
export interface FederationObservation {
  readonly cveId: string;
  readonly artifact: string;
  readonly noisy: boolean;
}

/** Default k of the k-anonymity rule: buckets seen in fewer artifacts are left out. */
export const DEFAULT_MIN_ARTIFACTS = 5;
/** VEX statuses that make a finding noisy: the scanner flagged it, but it does not apply (OpenVEX `not_affected`; CycloneDX `false_positive`). */
export const NOISY_VEX_STATUSES: readonly string[] = Object.freeze(['not_affected', 'false_positive']);
/** Most buckets one bundle holds. */
export const MAX_BUCKETS = 100_000;

const CONSENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MAX_COUNT = 2 ** 31 - 1;
// eslint-disable-next-line no-control-regex -- control characters are what these fields refuse
const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(message: string): never {
  throw new FederationError('federation.payload.invalid', message);
}

/** Printable text: no control characters, no lone surrogates, 1..max characters. */
function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !value.isWellFormed() || CONTROL.test(value)) {
    invalid(`${field} must be 1-${max} printable characters`);
  }
  return value;
}

function timestamp(value: unknown, field: string): string {
  if (typeof value !== 'string' || !TIMESTAMP.test(value) || !Number.isFinite(Date.parse(value))) invalid(`${field} must be an RFC 3339 UTC time such as 2026-01-01T00:00:00.000Z`);
  const year = Number(value.slice(0, 4));
  if (year < 1 || new Date(value).toISOString().slice(0, 19) !== value.slice(0, 19)) invalid(`${field} is not a real time: ${value}`);
  return value;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_COUNT) invalid(`${field} must be an integer from 0 to ${MAX_COUNT}`);
  return value;
}

function exactMembers(value: unknown, what: string, members: readonly string[]): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) invalid(`${what} must be a JSON object`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !members.includes(k));
  if (extra.length > 0) invalid(`${what} has a member "${extra[0]!.slice(0, 64)}" the format does not define`);
  const missing = members.filter((k) => record[k] === undefined);
  if (missing.length > 0) invalid(`${what} lacks ${missing[0]}`);
  return record;
}

/** A time as the payloads write it: `Date#toISOString()` (milliseconds, `Z`). */
export function federationTime(value: string | Date | number, field = 'time'): string {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) invalid(`${field} is not a time: ${String(value).slice(0, 64)}`);
  const iso = new Date(ms).toISOString();
  if (!TIMESTAMP.test(iso)) invalid(`${field} is out of range: ${String(value).slice(0, 64)}`);
  return iso;
}

/** Checks a consent payload's members and rules; throws `federation.payload.invalid`. */
export function validateConsent(value: unknown): FederationConsent {
  const r = exactMembers(value, 'the consent', ['consentId', 'tenantId', 'grantedBy', 'grantedAt', 'expiresAt', 'purpose']);
  if (typeof r['consentId'] !== 'string' || !CONSENT_ID.test(r['consentId'])) invalid('consentId must be 1-128 letters, digits or "._:-", starting with a letter or digit');
  if (typeof r['tenantId'] !== 'string' || !TENANT_ID.test(r['tenantId']) || r['tenantId'] === 'global') invalid('tenantId must be a tenant id (1-64 letters, digits, "_" or "-")');
  const consent: FederationConsent = {
    consentId: r['consentId'],
    tenantId: r['tenantId'],
    grantedBy: text(r['grantedBy'], 'grantedBy', 256),
    grantedAt: timestamp(r['grantedAt'], 'grantedAt'),
    expiresAt: timestamp(r['expiresAt'], 'expiresAt'),
    purpose: text(r['purpose'], 'purpose', 1000),
  };
  if (Date.parse(consent.expiresAt) <= Date.parse(consent.grantedAt)) invalid('expiresAt must be after grantedAt');
  return consent;
}

/** Ordering of FED-2: cveId ordinal, noisyCount descending, artifactCount, observationCount. */
export function compareBuckets(a: FederationBucket, b: FederationBucket): number {
  if (a.cveId !== b.cveId) return a.cveId < b.cveId ? -1 : 1;
  return b.noisyCount - a.noisyCount || a.artifactCount - b.artifactCount || a.observationCount - b.observationCount;
}

function validateBucket(value: unknown, i: number): FederationBucket {
  const r = exactMembers(value, `bucket ${i}`, ['cveId', 'noisyCount', 'artifactCount', 'observationCount']);
  const bucket: FederationBucket = {
    cveId: text(r['cveId'], `bucket ${i} cveId`, 128),
    noisyCount: count(r['noisyCount'], `bucket ${i} noisyCount`),
    artifactCount: count(r['artifactCount'], `bucket ${i} artifactCount`),
    observationCount: count(r['observationCount'], `bucket ${i} observationCount`),
  };
  if (bucket.artifactCount < 1) invalid(`bucket ${i} (${bucket.cveId}) has no artifact`);
  if (bucket.artifactCount > bucket.observationCount) invalid(`bucket ${i} (${bucket.cveId}) has more artifacts than observations`);
  if (bucket.noisyCount > bucket.observationCount) invalid(`bucket ${i} (${bucket.cveId}) has more noisy observations than observations`);
  return bucket;
}

/** `sha256:` + hex SHA-256 of the canonical JSON of the payload without bundleId. */
export function deriveBundleId(payload: Omit<FederationBundlePayload, 'bundleId'>): string {
  const seed = jcs({ consentDigest: payload.consentDigest, createdAt: payload.createdAt, buckets: payload.buckets.map((b) => ({ ...b })) });
  return `sha256:${createHash('sha256').update(seed, 'utf8').digest('hex')}`;
}

/** Checks a bundle payload: members, counts, bucket order and the bundleId derivation; throws `federation.payload.invalid`. */
export function validateBundlePayload(value: unknown): FederationBundlePayload {
  const r = exactMembers(value, 'the bundle', ['bundleId', 'consentDigest', 'createdAt', 'buckets']);
  if (typeof r['bundleId'] !== 'string' || !DIGEST.test(r['bundleId'])) invalid('bundleId must be sha256:<64 hex digits>');
  if (typeof r['consentDigest'] !== 'string' || !DIGEST.test(r['consentDigest'])) invalid('consentDigest must be sha256:<64 hex digits>');
  const createdAt = timestamp(r['createdAt'], 'createdAt');
  if (!Array.isArray(r['buckets'])) invalid('buckets must be an array');
  if (r['buckets'].length > MAX_BUCKETS) invalid(`a bundle holds at most ${MAX_BUCKETS} buckets`);
  const buckets = r['buckets'].map((b: unknown, i: number) => validateBucket(b, i));
  for (let i = 1; i < buckets.length; i++) {
    if (compareBuckets(buckets[i - 1]!, buckets[i]!) > 0) invalid(`buckets are not in canonical order at index ${i} (cveId ordinal, noisyCount descending, artifactCount, observationCount)`);
  }
  const payload: FederationBundlePayload = { bundleId: r['bundleId'], consentDigest: r['consentDigest'], createdAt, buckets };
  const derived = deriveBundleId(payload);
  if (derived !== payload.bundleId) invalid(`bundleId ${payload.bundleId} is not derived from the payload (expected ${derived})`);
  return payload;
}

/**
 * The envelope's payload as JSON, required to be exactly its canonical form (so its bytes, and
 * digests over them, have one spelling).
 */
export function canonicalPayloadOf(envelope: FederationEnvelope): unknown {
  const bytes = decodeBase64(envelope.payload, 'payload');
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    if (!Buffer.from(text, 'utf8').equals(bytes)) throw new Error('not UTF-8');
    value = JSON.parse(text);
  } catch (cause) {
    throw new FederationError('federation.payload.invalid', 'the payload is not UTF-8 JSON', { cause });
  }
  let canonical: string;
  try {
    canonical = jcs(value);
  } catch (cause) {
    throw new FederationError('federation.payload.invalid', `the payload cannot be canonical JSON: ${(cause as Error).message}`, { cause });
  }
  if (canonical !== text) invalid('the payload is not in canonical JSON (RFC 8785) form');
  return value;
}

/**
 * Buckets from observations: per cveId the observations, distinct artifacts and noisy
 * observations, in canonical order; buckets seen in fewer than `minArtifacts` artifacts are
 * left out and counted in `suppressed`.
 */
export function aggregateFederationBuckets(observations: Iterable<FederationObservation>, minArtifacts = DEFAULT_MIN_ARTIFACTS): { buckets: FederationBucket[]; suppressed: number } {
  if (!Number.isInteger(minArtifacts) || minArtifacts < 1) throw new FederationError('federation.payload.invalid', 'minArtifacts must be a positive integer');
  const byCve = new Map<string, { artifacts: Set<string>; observations: number; noisy: number }>();
  for (const o of observations) {
    let entry = byCve.get(o.cveId);
    if (!entry) byCve.set(o.cveId, (entry = { artifacts: new Set(), observations: 0, noisy: 0 }));
    entry.artifacts.add(o.artifact);
    entry.observations++;
    if (o.noisy) entry.noisy++;
  }
  const buckets: FederationBucket[] = [];
  let suppressed = 0;
  for (const [cveId, e] of byCve) {
    if (e.artifacts.size < minArtifacts) {
      suppressed++;
      continue;
    }
    buckets.push({ cveId, noisyCount: e.noisy, artifactCount: e.artifacts.size, observationCount: e.observations });
  }
  buckets.sort(compareBuckets);
  return { buckets, suppressed };
}

/**
 * Observations from a findings document as the Policy Engine attaches it to an evaluation
 * (`findings.json`: an array of findings with `advisory_id` and `vex_status`). Each finding is
 * one observation of its advisory id in `artifact`; it is noisy when its VEX status is one of
 * NOISY_VEX_STATUSES. Items that are not findings are skipped and counted.
 */
export function observationsFromFindings(artifact: string, findings: unknown): { observations: FederationObservation[]; skipped: number } {
  if (!Array.isArray(findings)) return { observations: [], skipped: 1 };
  const observations: FederationObservation[] = [];
  let skipped = 0;
  for (const f of findings) {
    const id = (f as { advisory_id?: unknown } | null)?.advisory_id;
    const status = (f as { vex_status?: unknown } | null)?.vex_status;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128 || !id.isWellFormed() || CONTROL.test(id)) {
      skipped++;
      continue;
    }
    observations.push({ cveId: id, artifact, noisy: typeof status === 'string' && NOISY_VEX_STATUSES.includes(status) });
  }
  return { observations, skipped };
}

export interface ConsentInput {
  /** Default: `consent-` + 32 hex digits derived from the other members (the same input, the same id). */
  consentId?: string;
  tenantId: string;
  grantedBy: string;
  grantedAt: string | Date;
  expiresAt: string | Date;
  purpose: string;
}

/** Builds, checks and signs a consent proof. */
export async function createFederationConsent(input: ConsentInput, sign: FederationSignOptions): Promise<{ consent: FederationConsent; envelope: FederationEnvelope }> {
  const base = {
    tenantId: input.tenantId,
    grantedBy: input.grantedBy,
    grantedAt: federationTime(input.grantedAt, 'grantedAt'),
    expiresAt: federationTime(input.expiresAt, 'expiresAt'),
    purpose: input.purpose,
  };
  const consentId = input.consentId ?? `consent-${createHash('sha256').update(jcs(base), 'utf8').digest('hex').slice(0, 32)}`;
  const consent = validateConsent({ consentId, ...base });
  return { consent, envelope: await signFederationEnvelope(FEDERATION_CONSENT_PAYLOAD_TYPE, consent, sign) };
}

/** Throws `federation.consent.expired` unless the consent is in force at `at` (grantedAt ≤ at < expiresAt). */
export function assertConsentInForce(consent: FederationConsent, at: string): void {
  const t = Date.parse(at);
  if (t < Date.parse(consent.grantedAt)) invalid(`the bundle is created at ${at}, before consent ${consent.consentId} was granted (${consent.grantedAt})`);
  if (t >= Date.parse(consent.expiresAt)) {
    throw new FederationError('federation.consent.expired', `consent ${consent.consentId} expired at ${consent.expiresAt}; the bundle is created at ${at}`);
  }
}

export interface BundleInput {
  /** The consent envelope the bundle is shared under (its payload is read; its digest is linked). */
  consent: FederationEnvelope;
  /** The fixed clock input: when the bundle is created. */
  createdAt: string | Date;
  /** Buckets as counted elsewhere, or observations to aggregate. */
  buckets?: readonly FederationBucket[];
  observations?: Iterable<FederationObservation>;
  /** k: buckets seen in fewer artifacts are left out. Default 5. */
  minArtifacts?: number;
}

export interface BuiltBundle {
  envelope: FederationEnvelope;
  payload: FederationBundlePayload;
  consent: FederationConsent;
  /** Buckets left out for being seen in fewer than `minArtifacts` artifacts. */
  suppressed: number;
}

/** Reads a consent envelope's payload (type and payload checked; the signature is verify.ts's). */
export function consentOf(envelope: FederationEnvelope): FederationConsent {
  if (envelope.payloadType !== FEDERATION_CONSENT_PAYLOAD_TYPE) {
    throw new FederationError('federation.dsse.payload_type_mismatch', `the consent envelope's payloadType is "${envelope.payloadType.slice(0, 200)}", expected "${FEDERATION_CONSENT_PAYLOAD_TYPE}"`);
  }
  return validateConsent(canonicalPayloadOf(envelope));
}

/**
 * Builds and signs an aggregate bundle under a consent: the buckets (given, or aggregated from
 * observations with k = `minArtifacts`) in canonical order, the consent's digest, createdAt and
 * the derived bundleId. Throws `federation.consent.expired` when the consent is not in force at
 * createdAt, and the signing errors of envelope.ts.
 */
export async function buildFederationBundle(input: BundleInput, sign: FederationSignOptions): Promise<BuiltBundle> {
  const consentEnvelope = parseFederationEnvelope(input.consent);
  const consent = consentOf(consentEnvelope);
  const createdAt = federationTime(input.createdAt, 'createdAt');
  assertConsentInForce(consent, createdAt);
  const k = input.minArtifacts ?? DEFAULT_MIN_ARTIFACTS;
  let buckets: FederationBucket[];
  let suppressed: number;
  if (input.observations) {
    ({ buckets, suppressed } = aggregateFederationBuckets(input.observations, k));
  } else {
    const given = (input.buckets ?? []).map((b, i) => validateBucket({ ...b }, i));
    buckets = given.filter((b) => b.artifactCount >= k).sort(compareBuckets);
    suppressed = given.length - buckets.length;
  }
  const body = { consentDigest: federationEnvelopeDigest(consentEnvelope), createdAt, buckets };
  const payload = validateBundlePayload({ bundleId: deriveBundleId(body), ...body });
  const envelope = await signFederationEnvelope(FEDERATION_BUNDLE_PAYLOAD_TYPE, payload, sign);
  return { envelope, payload, consent, suppressed };
}
