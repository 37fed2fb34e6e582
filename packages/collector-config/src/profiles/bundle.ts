/**
 * Signed profile bundles (COL-3): a rendered profile's YAML and a DSSE envelope whose payload is
 * exactly that YAML, signed with the platform key through the forensics library. Verification
 * works offline against a key ring (`stella forensic keyring export`) or trusted public keys and
 * always runs before a profile is deployed: a byte changed in the YAML or in the envelope is
 * refused with a stable code naming what differs.
 */
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { parseDsseEnvelope, signDsse, verifyDsse, type DsseEnvelope, type Keyring, type Signer, type VerificationFailure, type VerificationKey } from '@stellaops/forensics';
import type { RenderedProfile } from './render.js';

/** The DSSE payload type of a profile envelope: the payload is the Collector YAML, byte for byte. */
export const PROFILE_PAYLOAD_TYPE = 'application/vnd.stellaops.collector-profile+yaml';

/** File names a deployed profile is written as. */
export const PROFILE_CONFIG_FILE = 'config.yaml';
export const PROFILE_ENVELOPE_FILE = 'config.yaml.dsse.json';
export const PROFILE_CONFIGMAP_FILE = 'configmap.yaml';

/** A signed profile, as `GET /telemetry/config/profile/{name}` serves it. */
export interface ProfileBundle {
  name: string;
  /** `sha256:<hex>` of `yaml`. */
  profile_digest: string;
  /** The Collector distribution the profile is pinned to. */
  collector: { distribution: string; version: string };
  /** The Collector configuration file. */
  yaml: string;
  /** DSSE envelope over `yaml` (payload type `PROFILE_PAYLOAD_TYPE`). */
  envelope: DsseEnvelope;
}

/** Why a profile bundle does not verify. */
export const PROFILE_SIGNATURE_CODES = [
  /** No envelope beside the YAML. */
  'profile.signature_missing',
  /** The envelope is not a DSSE envelope (not JSON, or a field missing). */
  'profile.envelope_invalid',
  /** The envelope signs something other than a Collector profile. */
  'profile.payload_type_mismatch',
  /** The envelope's signature does not verify over its payload (the envelope was altered). */
  'profile.signature_invalid',
  /** Signed by a key the key ring does not trust at the time asked (unknown, retired or revoked). */
  'profile.key_untrusted',
  /** The YAML is not the payload the envelope signs (the YAML was altered). */
  'profile.yaml_mismatch',
] as const;

export type ProfileSignatureCode = (typeof PROFILE_SIGNATURE_CODES)[number];

export interface ProfileVerification {
  ok: boolean;
  /** Set when `ok` is false. */
  code?: ProfileSignatureCode;
  /** What was found, in one sentence. */
  message: string;
  /** `sha256:<hex>` of the YAML given. */
  digest: string;
  /** `sha256:<hex>` of the payload the envelope signs, when the envelope could be read. */
  signed_digest?: string;
  /** Key ids whose signatures verified. */
  key_ids: string[];
  /** The profile the YAML's header names (`# stellaops.profile: …`), when it has one. */
  profile?: string;
}

export interface ProfileTrust {
  /** Trusted key ring: the signing key must be valid at `at`. */
  keyring?: Keyring;
  /** Trusted public keys (without validity windows). */
  keys?: readonly VerificationKey[];
  /** When the key must have been valid (key ring only). Default now. */
  at?: Date;
}

export function profileDigest(yaml: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(yaml).digest('hex')}`;
}

/** The profile a YAML's header names. */
function headerProfile(yaml: string): string | undefined {
  return /^# stellaops\.profile: (.+)$/m.exec(yaml)?.[1];
}

/** Signs a rendered profile's YAML. ECDSA signatures here are deterministic (RFC 6979): the same YAML and key give the same envelope. */
export async function signProfile(profile: Pick<RenderedProfile, 'name' | 'yaml' | 'model'>, signer: Signer): Promise<ProfileBundle> {
  const envelope = await signDsse(profile.yaml, PROFILE_PAYLOAD_TYPE, signer);
  return {
    name: profile.name,
    profile_digest: profileDigest(profile.yaml),
    collector: { distribution: profile.model.distribution.name, version: profile.model.distribution.version },
    yaml: profile.yaml,
    envelope,
  };
}

/** The envelope as it is written next to the YAML: two-space JSON with a final newline (deterministic). */
export function serializeProfileEnvelope(envelope: DsseEnvelope): string {
  return `${JSON.stringify({ payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })) }, null, 2)}\n`;
}

function untrusted(failures: readonly VerificationFailure[]): boolean {
  return failures.length > 0 && failures.every((f) => ['key_unknown', 'key_outside_validity', 'key_revoked', 'threshold_not_met'].includes(f.code)) && failures.some((f) => f.code !== 'threshold_not_met');
}

/**
 * Verifies a profile's YAML against its envelope: the envelope must be a DSSE envelope of
 * `PROFILE_PAYLOAD_TYPE` signed by a trusted key, and its payload must be the YAML byte for byte.
 * Never throws for a bad bundle: the result names the first problem with a stable code.
 */
export function verifyProfileBundle(yamlInput: string | Uint8Array, envelopeInput: DsseEnvelope | string | Uint8Array | undefined, trust: ProfileTrust): ProfileVerification {
  const yaml = typeof yamlInput === 'string' ? Buffer.from(yamlInput, 'utf8') : Buffer.from(yamlInput);
  const text = yaml.toString('utf8');
  const profile = headerProfile(text);
  const base = { digest: profileDigest(yaml), key_ids: [] as string[], ...(profile ? { profile } : {}) };
  const fail = (code: ProfileSignatureCode, message: string, extra: Partial<ProfileVerification> = {}): ProfileVerification => ({ ok: false, code, message, ...base, ...extra });
  if (envelopeInput === undefined) return fail('profile.signature_missing', 'the profile has no signature envelope');
  let envelope: DsseEnvelope;
  try {
    envelope = parseDsseEnvelope(envelopeInput);
  } catch (error) {
    return fail('profile.envelope_invalid', `the signature envelope is not a DSSE envelope: ${(error as Error).message}`);
  }
  if (envelope.payloadType !== PROFILE_PAYLOAD_TYPE) {
    return fail('profile.payload_type_mismatch', `the envelope's payload type is "${envelope.payloadType}", not "${PROFILE_PAYLOAD_TYPE}"`);
  }
  const signed = Buffer.from(envelope.payload, 'base64');
  const signedDigest = profileDigest(signed);
  const result = trust.keyring
    ? verifyDsse(envelope, { keyring: trust.keyring, signedAt: trust.at ?? new Date(), payloadType: PROFILE_PAYLOAD_TYPE })
    : verifyDsse(envelope, { keys: trust.keys ?? [], payloadType: PROFILE_PAYLOAD_TYPE });
  if (!result.ok) {
    const detail = result.failures.map((f) => f.message).join('; ');
    if (untrusted(result.failures)) return fail('profile.key_untrusted', `the profile is not signed by a trusted key: ${detail}`, { signed_digest: signedDigest });
    return fail('profile.signature_invalid', `the signature envelope does not verify: ${detail}`, { signed_digest: signedDigest });
  }
  if (!signed.equals(yaml)) {
    return fail('profile.yaml_mismatch', `the YAML (${base.digest}) is not the profile the envelope signs (${signedDigest})`, { signed_digest: signedDigest, key_ids: [...result.verifiedKeyIds] });
  }
  return { ok: true, message: `signed by ${result.verifiedKeyIds.join(', ')}`, ...base, signed_digest: signedDigest, key_ids: [...result.verifiedKeyIds] };
}

export interface ConfigMapOptions {
  /** Kubernetes namespace. Default `stellaops`. */
  namespace?: string;
  /** ConfigMap name. Default `stellaops-otelcol-<profile>`. */
  name?: string;
}

/**
 * A Kubernetes ConfigMap holding the profile's YAML and its envelope, as deterministic YAML:
 * the same bundle gives the same bytes. The envelope travels with the config so a verifier in
 * the cluster can check it before the Collector starts.
 */
export function profileConfigMap(bundle: Pick<ProfileBundle, 'name' | 'profile_digest' | 'yaml' | 'envelope'>, options: ConfigMapOptions = {}): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: options.name ?? `stellaops-otelcol-${bundle.name}`,
      namespace: options.namespace ?? 'stellaops',
      labels: { 'app.kubernetes.io/component': 'otel-collector', 'app.kubernetes.io/part-of': 'stellaops', 'stellaops.io/collector-profile': bundle.name },
      annotations: { 'stellaops.io/profile-digest': bundle.profile_digest },
    },
    data: { [PROFILE_CONFIG_FILE]: bundle.yaml, [PROFILE_ENVELOPE_FILE]: serializeProfileEnvelope(bundle.envelope) },
  };
  return stringify(doc, { version: '1.2', lineWidth: 0, minContentWidth: 0, indent: 2, indentSeq: true, sortMapEntries: false, aliasDuplicateObjects: false, blockQuote: 'literal' });
}

/** Reads back a ConfigMap written by `profileConfigMap`: the YAML and the envelope text it holds. */
export function readProfileConfigMap(text: string): { yaml?: string; envelope?: string } {
  const doc = parse(text) as { data?: Record<string, unknown> } | null;
  const data = doc?.data ?? {};
  const y = data[PROFILE_CONFIG_FILE];
  const e = data[PROFILE_ENVELOPE_FILE];
  return { ...(typeof y === 'string' ? { yaml: y } : {}), ...(typeof e === 'string' ? { envelope: e } : {}) };
}
