import { describe, expect, it } from 'vitest';
import { createKeySigner, generateSigningKeyPair, Keyring, loadPublicKey, type DsseEnvelope } from '@stellaops/forensics';
import {
  PROFILE_PAYLOAD_TYPE,
  profileConfigMap,
  profileDigest,
  readProfileConfigMap,
  renderProfile,
  serializeProfileEnvelope,
  signProfile,
  verifyProfileBundle,
} from '../../src/index.js';

const pair = generateSigningKeyPair('ecdsa-p256-sha256');
const signer = createKeySigner(pair.privateKeyPem);
const trusted = { keys: [loadPublicKey(pair.publicKeyPem)] };

function flip(text: string, at: number): string {
  const b = Buffer.from(text, 'utf8');
  b[at] = b[at]! ^ 0x01;
  return b.toString('utf8');
}

describe('signed profile bundles', () => {
  it('signs the rendered YAML byte for byte, deterministically, and verifies it', async () => {
    const rendered = renderProfile('forensic');
    const a = await signProfile(rendered, signer);
    const b = await signProfile(rendered, signer);
    expect(a).toEqual(b);
    expect(a.name).toBe('forensic');
    expect(a.profile_digest).toBe(profileDigest(rendered.yaml));
    expect(a.collector).toEqual({ distribution: 'otelcol-contrib', version: '0.136.0' });
    expect(a.envelope.payloadType).toBe(PROFILE_PAYLOAD_TYPE);
    expect(Buffer.from(a.envelope.payload, 'base64').toString('utf8')).toBe(rendered.yaml);
    const v = verifyProfileBundle(a.yaml, serializeProfileEnvelope(a.envelope), trusted);
    expect(v).toMatchObject({ ok: true, profile: 'forensic', digest: a.profile_digest, key_ids: [signer.keyId] });
  });

  it('verifies against a key ring at a time the key is valid, and refuses a key outside it', async () => {
    const ring = await Keyring.create({ signer, at: '2026-01-01T00:00:00.000Z' });
    const bundle = await signProfile(renderProfile('default'), signer);
    expect(verifyProfileBundle(bundle.yaml, bundle.envelope, { keyring: ring, at: new Date('2026-06-01T00:00:00Z') }).ok).toBe(true);
    const early = verifyProfileBundle(bundle.yaml, bundle.envelope, { keyring: ring, at: new Date('2025-06-01T00:00:00Z') });
    expect(early).toMatchObject({ ok: false, code: 'profile.key_untrusted' });
  });

  it('detects a byte flipped in the YAML', async () => {
    const bundle = await signProfile(renderProfile('default'), signer);
    const tampered = flip(bundle.yaml, bundle.yaml.indexOf('receivers:') + 2);
    const v = verifyProfileBundle(tampered, bundle.envelope, trusted);
    expect(v.ok).toBe(false);
    expect(v.code).toBe('profile.yaml_mismatch');
    expect(v.message).toBe(`the YAML (${profileDigest(tampered)}) is not the profile the envelope signs (${bundle.profile_digest})`);
  });

  it('detects a byte flipped in the envelope: in the payload, in the signature, in the JSON', async () => {
    const bundle = await signProfile(renderProfile('airgap'), signer);
    const text = serializeProfileEnvelope(bundle.envelope);
    const payloadAt = text.indexOf('"payload": "') + '"payload": "'.length + 40;
    const swapped = text[payloadAt] === 'A' ? 'B' : 'A';
    const inPayload = verifyProfileBundle(bundle.yaml, `${text.slice(0, payloadAt)}${swapped}${text.slice(payloadAt + 1)}`, trusted);
    expect(inPayload.code).toBe('profile.signature_invalid');
    expect(inPayload.message).toBe(`the signature envelope does not verify: signature 0 by key ${signer.keyId} does not verify over the payload; 0 of the required 1 trusted keys signed`);
    const sig = bundle.envelope.signatures[0]!.sig;
    const other = sig[10] === 'A' ? 'B' : 'A';
    const badSig: DsseEnvelope = { ...bundle.envelope, signatures: [{ keyid: signer.keyId, sig: `${sig.slice(0, 10)}${other}${sig.slice(11)}` }] };
    expect(verifyProfileBundle(bundle.yaml, badSig, trusted).ok).toBe(false);
    const broken = verifyProfileBundle(bundle.yaml, text.replace('{', '['), trusted);
    expect(broken.code).toBe('profile.envelope_invalid');
    expect(verifyProfileBundle(bundle.yaml, undefined, trusted)).toMatchObject({ ok: false, code: 'profile.signature_missing', message: 'the profile has no signature envelope' });
    const otherType = verifyProfileBundle(bundle.yaml, { ...bundle.envelope, payloadType: 'application/json' }, trusted);
    expect(otherType).toMatchObject({ code: 'profile.payload_type_mismatch' });
  });

  it('refuses a signature by a key it does not trust', async () => {
    const stranger = createKeySigner(generateSigningKeyPair().privateKeyPem);
    const bundle = await signProfile(renderProfile('default'), stranger);
    expect(verifyProfileBundle(bundle.yaml, bundle.envelope, trusted)).toMatchObject({ ok: false, code: 'profile.key_untrusted' });
  });

  it('writes a deterministic ConfigMap that carries the YAML and the envelope verbatim', async () => {
    const bundle = await signProfile(renderProfile('default'), signer);
    const a = profileConfigMap(bundle);
    expect(profileConfigMap(bundle)).toBe(a);
    expect(a.startsWith('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stellaops-otelcol-default\n  namespace: stellaops\n')).toBe(true);
    expect(a).toContain(`stellaops.io/profile-digest: ${bundle.profile_digest}`);
    const back = readProfileConfigMap(a);
    expect(back.yaml).toBe(bundle.yaml);
    expect(back.envelope).toBe(serializeProfileEnvelope(bundle.envelope));
    expect(verifyProfileBundle(back.yaml!, back.envelope, trusted).ok).toBe(true);
    expect(profileConfigMap(bundle, { namespace: 'observability', name: 'otel' })).toContain('  name: otel\n  namespace: observability\n');
  });
});
