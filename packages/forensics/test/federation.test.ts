/**
 * Federation envelopes (FED-1..4): HMAC-SHA256 DSSE sign/verify round trips, an envelope crafted
 * for every error code, determinism (the same logical input gives the same bytes and bundle id),
 * k-anonymity suppression and consent expiry exactly at its boundary.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FEDERATION_BUNDLE_PAYLOAD_TYPE,
  FEDERATION_CONSENT_PAYLOAD_TYPE,
  FEDERATION_ERROR_CODES,
  FederationError,
  OFFLINE_UNSIGNED_FALLBACK,
  aggregateFederationBuckets,
  buildFederationBundle,
  compareBuckets,
  createFederationConsent,
  federationEnvelopeDigest,
  hmacFederationSigner,
  observationsFromFindings,
  parseFederationKeyMap,
  signFederationEnvelope,
  verifyFederationBundle,
  verifyFederationConsent,
  type FederationBucket,
  type FederationEnvelope,
  type FederationErrorCode,
  type FederationObservation,
} from '../src/index.js';

const secretA = randomBytes(32);
const secretB = randomBytes(32);
const keys = parseFederationKeyMap(JSON.stringify({ keys: { 'site-a': secretA.toString('base64'), 'site-b': secretB.toString('base64') } }));
const onlyA = parseFederationKeyMap({ keys: { 'site-a': secretA.toString('base64') } });
const onlyB = parseFederationKeyMap({ keys: { 'site-b': secretB.toString('base64') } });

const CONSENT = {
  tenantId: 'acme',
  grantedBy: 'user:ciso@acme',
  grantedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-04-01T00:00:00.000Z',
  purpose: 'share how noisy CVEs are across artifacts',
};

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
const payloadOf = (env: FederationEnvelope): Record<string, unknown> => JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Record<string, unknown>;

/** Re-signs a (tampered) payload with a key, as a forger with that key would. */
function hmacSign(payloadType: string, payloadText: string, keyid: string, secret: Buffer): FederationEnvelope {
  const body = Buffer.from(payloadText, 'utf8');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${body.length} `), body]);
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid, sig: createHmac('sha256', secret).update(pae).digest('base64') }] };
}

/** Canonical JSON of simple objects: keys sorted recursively. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function observations(spec: Record<string, { artifacts: number; per: number; noisy: number }>): FederationObservation[] {
  const out: FederationObservation[] = [];
  for (const [cveId, s] of Object.entries(spec)) {
    let noisy = s.noisy;
    for (let a = 0; a < s.artifacts; a++) {
      for (let i = 0; i < s.per; i++) out.push({ cveId, artifact: `art-${a}`, noisy: noisy-- > 0 });
    }
  }
  return out;
}

async function consentAndBundle() {
  const { envelope: consent } = await createFederationConsent(CONSENT, { keys, keyId: 'site-a' });
  const built = await buildFederationBundle(
    {
      consent,
      createdAt: '2026-02-01T00:00:00Z',
      observations: observations({ 'CVE-2026-0002': { artifacts: 6, per: 2, noisy: 7 }, 'CVE-2026-0001': { artifacts: 5, per: 1, noisy: 0 }, 'CVE-2026-0003': { artifacts: 2, per: 3, noisy: 1 } }),
    },
    { keys, keyId: 'site-a' },
  );
  return { ...built, consent };
}

function expectCode(result: { ok: boolean; code?: string }, code: FederationErrorCode): void {
  expect(result.ok).toBe(false);
  expect(result.code).toBe(code);
}

describe('envelopes', () => {
  it('sign with HMAC-SHA256 over the DSSE PAE, verifiable by hand', async () => {
    const { consent, envelope } = await createFederationConsent(CONSENT, { keys, keyId: 'site-a' });
    expect(envelope.payloadType).toBe(FEDERATION_CONSENT_PAYLOAD_TYPE);
    expect(Object.keys(envelope).sort()).toEqual(['payload', 'payloadType', 'signatures']);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]!.keyid).toBe('site-a');
    const body = Buffer.from(envelope.payload, 'base64');
    // The payload is the canonical JSON of exactly the consent's members.
    expect(body.toString('utf8')).toBe(canonical(consent));
    expect(Object.keys(payloadOf(envelope)).sort()).toEqual(['consentId', 'expiresAt', 'grantedAt', 'grantedBy', 'purpose', 'tenantId']);
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${FEDERATION_CONSENT_PAYLOAD_TYPE.length} ${FEDERATION_CONSENT_PAYLOAD_TYPE} ${body.length} `), body]);
    expect(envelope.signatures[0]!.sig).toBe(createHmac('sha256', secretA).update(pae).digest('base64'));
    // The digest is over the envelope's canonical JSON.
    expect(federationEnvelopeDigest(envelope)).toBe(`sha256:${createHash('sha256').update(canonical(envelope)).digest('hex')}`);
  });

  it('round-trip: a consent and a bundle verify with the trusted key map', async () => {
    const { consent, envelope, payload } = await consentAndBundle();
    const c = verifyFederationConsent(consent, { keys });
    expect(c).toMatchObject({ ok: true, consent: { tenantId: 'acme' }, signer: { keyId: 'site-a', fallback: null } });
    const v = verifyFederationBundle(JSON.stringify(envelope), JSON.stringify(consent), { keys: onlyA });
    expect(v.ok, JSON.stringify(v)).toBe(true);
    if (!v.ok) return;
    expect(v.bundle).toEqual(payload);
    expect(v.consentDigest).toBe(federationEnvelopeDigest(consent));
    expect(v.bundle.consentDigest).toBe(v.consentDigest);
    expect(v.signer).toEqual({ keyId: 'site-a', fallback: null });
    // A pretty-printed copy of the same envelope is the same envelope.
    expect(verifyFederationBundle(JSON.stringify(envelope, null, 2), consent, { keys }).ok).toBe(true);
  });

  it('the default signer is the key map’s only key; several keys need a key id', async () => {
    expect(hmacFederationSigner(onlyA).keyId).toBe('site-a');
    expect(() => hmacFederationSigner(keys)).toThrow(expect.objectContaining({ code: 'federation.dsse.signer_unavailable' }));
  });
});

describe('every error code from a crafted envelope', () => {
  it('federation.dsse.signer_unavailable: no key map, an unknown key id', async () => {
    for (const sign of [{}, { keys, keyId: 'site-z' }, { keys: parseFederationKeyMap({ keys: {} }) }]) {
      await expect(createFederationConsent(CONSENT, sign)).rejects.toMatchObject({ code: 'federation.dsse.signer_unavailable' });
    }
  });

  it('federation.dsse.sign_failed: a secret too short to sign with, a signer that throws', async () => {
    const short = parseFederationKeyMap({ keys: { weak: Buffer.from('short').toString('base64') } });
    await expect(createFederationConsent(CONSENT, { keys: short, keyId: 'weak' })).rejects.toMatchObject({ code: 'federation.dsse.sign_failed' });
    const kms = { keyId: 'kms-1', sign: async () => Promise.reject(new Error('KMS unreachable')) };
    const err = await createFederationConsent(CONSENT, { signer: kms }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FederationError);
    expect(err).toMatchObject({ code: 'federation.dsse.sign_failed', message: expect.stringContaining('KMS unreachable') });
    // A failing signer is a failure even when unsigned envelopes are allowed.
    await expect(createFederationConsent(CONSENT, { signer: kms, allowUnsigned: true })).rejects.toMatchObject({ code: 'federation.dsse.sign_failed' });
  });

  it('federation.dsse.payload_type_mismatch: a bundle where a consent belongs, and the other way', async () => {
    const { consent, envelope } = await consentAndBundle();
    expectCode(verifyFederationConsent(envelope, { keys }), 'federation.dsse.payload_type_mismatch');
    expectCode(verifyFederationBundle(consent, consent, { keys }), 'federation.dsse.payload_type_mismatch');
    const relabelled = { ...envelope, payloadType: 'application/vnd.in-toto+json' };
    expectCode(verifyFederationBundle(relabelled, consent, { keys }), 'federation.dsse.payload_type_mismatch');
  });

  it('federation.dsse.untrusted_key: signed by a key the verifier does not hold', async () => {
    const { consent, envelope } = await consentAndBundle();
    expectCode(verifyFederationBundle(envelope, consent, { keys: onlyB }), 'federation.dsse.untrusted_key');
    expectCode(verifyFederationBundle(envelope, consent, {}), 'federation.dsse.untrusted_key');
    // A key id the verifier knows, but with the verifier's secret being another: the MAC does not verify.
    const sameIdOtherSecret = parseFederationKeyMap({ keys: { 'site-a': secretB.toString('base64') } });
    expectCode(verifyFederationBundle(envelope, consent, { keys: sameIdOtherSecret }), 'federation.dsse.signature_invalid');
  });

  it('federation.dsse.signature_invalid: a tampered payload, a tampered MAC, a truncated MAC, no signature, an unsigned envelope', async () => {
    const { consent, envelope } = await consentAndBundle();
    const payload = payloadOf(envelope);
    const tampered = { ...envelope, payload: Buffer.from(canonical({ ...payload, createdAt: '2026-02-02T00:00:00.000Z' })).toString('base64') };
    expectCode(verifyFederationBundle(tampered, consent, { keys }), 'federation.dsse.signature_invalid');
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    sig[0]! ^= 1;
    expectCode(verifyFederationBundle({ ...envelope, signatures: [{ keyid: 'site-a', sig: sig.toString('base64') }] }, consent, { keys }), 'federation.dsse.signature_invalid');
    expectCode(verifyFederationBundle({ ...envelope, signatures: [{ keyid: 'site-a', sig: sig.subarray(0, 16).toString('base64') }] }, consent, { keys }), 'federation.dsse.signature_invalid');
    expectCode(verifyFederationBundle({ ...envelope, signatures: [] }, consent, { keys }), 'federation.dsse.signature_invalid');
    const unsigned = { ...envelope, signatures: [{ keyid: OFFLINE_UNSIGNED_FALLBACK, sig: '' }] };
    const refused = verifyFederationBundle(unsigned, consent, { keys });
    expectCode(refused, 'federation.dsse.signature_invalid');
    expect(!refused.ok && refused.message).toContain(OFFLINE_UNSIGNED_FALLBACK);
  });

  it('federation.consent.expired: a bundle created when the consent no longer held', async () => {
    const { envelope: consent } = await createFederationConsent(CONSENT, { keys, keyId: 'site-a' });
    await expect(buildFederationBundle({ consent, createdAt: '2026-05-01T00:00:00Z', buckets: [] }, { keys, keyId: 'site-a' })).rejects.toMatchObject({ code: 'federation.consent.expired' });
    // Forged past the builder: a bundle signed by a trusted key, created after the expiry.
    const body = { consentDigest: federationEnvelopeDigest(consent), createdAt: '2026-05-01T00:00:00.000Z', buckets: [] as FederationBucket[] };
    const bundleId = `sha256:${createHash('sha256').update(canonical(body)).digest('hex')}`;
    const forged = hmacSign(FEDERATION_BUNDLE_PAYLOAD_TYPE, canonical({ ...body, bundleId }), 'site-a', secretA);
    expectCode(verifyFederationBundle(forged, consent, { keys }), 'federation.consent.expired');
  });

  it('federation.consent.digest_mismatch: the bundle shown with another consent', async () => {
    const { envelope } = await consentAndBundle();
    const { envelope: other } = await createFederationConsent({ ...CONSENT, purpose: 'another purpose' }, { keys, keyId: 'site-a' });
    expectCode(verifyFederationBundle(envelope, other, { keys }), 'federation.consent.digest_mismatch');
    // A consent re-signed by the other trusted key is another envelope: another digest.
    const { envelope: resigned } = await createFederationConsent(CONSENT, { keys, keyId: 'site-b' });
    expectCode(verifyFederationBundle(envelope, resigned, { keys }), 'federation.consent.digest_mismatch');
    expectCode(verifyFederationConsent(other, { keys, expectedDigest: federationEnvelopeDigest(resigned) }), 'federation.consent.digest_mismatch');
  });

  it('federation.payload.invalid: not JSON, not canonical, buckets out of order, a bundleId not derived, counts that cannot be', async () => {
    const { consent, envelope } = await consentAndBundle();
    expectCode(verifyFederationBundle('{not json', consent, { keys }), 'federation.payload.invalid');
    expectCode(verifyFederationBundle({ ...envelope, extra: 1 }, consent, { keys }), 'federation.payload.invalid');
    expectCode(verifyFederationBundle({ ...envelope, payload: 'not base64!' }, consent, { keys }), 'federation.payload.invalid');
    const payload = payloadOf(envelope) as { buckets: FederationBucket[]; [k: string]: unknown };
    expect(payload.buckets.length).toBeGreaterThanOrEqual(2);
    const forge = (p: unknown, text?: string) => hmacSign(FEDERATION_BUNDLE_PAYLOAD_TYPE, text ?? canonical(p), 'site-a', secretA);
    const rederive = (p: { buckets: unknown[]; [k: string]: unknown }) => {
      const { bundleId: _drop, ...rest } = p;
      return { ...rest, bundleId: `sha256:${createHash('sha256').update(canonical(rest)).digest('hex')}` };
    };
    // Pretty-printed payload bytes: the same JSON, not its canonical form.
    expectCode(verifyFederationBundle(forge(null, JSON.stringify(payload, null, 1)), consent, { keys }), 'federation.payload.invalid');
    // Buckets reversed, with a bundleId derived from the reversed list.
    const reversed = rederive({ ...payload, buckets: [...payload.buckets].reverse() });
    const outOfOrder = verifyFederationBundle(forge(reversed), consent, { keys });
    expectCode(outOfOrder, 'federation.payload.invalid');
    expect(!outOfOrder.ok && outOfOrder.message).toMatch(/canonical order/);
    // A bucket count changed, bundleId left as it was.
    const changed = { ...payload, buckets: payload.buckets.map((b, i) => (i === 0 ? { ...b, observationCount: b.observationCount + 1 } : b)) };
    const notDerived = verifyFederationBundle(forge(changed), consent, { keys });
    expectCode(notDerived, 'federation.payload.invalid');
    expect(!notDerived.ok && notDerived.message).toMatch(/not derived/);
    // More noisy observations than observations.
    expectCode(verifyFederationBundle(forge(rederive({ ...payload, buckets: payload.buckets.map((b) => ({ ...b, noisyCount: b.observationCount + 1 })) })), consent, { keys }), 'federation.payload.invalid');
    // An unknown member in the payload.
    expectCode(verifyFederationBundle(forge(rederive({ ...payload, tenant: 'acme' } as never)), consent, { keys }), 'federation.payload.invalid');
    // A consent whose expiry is before its grant.
    const badConsent = hmacSign(FEDERATION_CONSENT_PAYLOAD_TYPE, canonical({ consentId: 'c-1', ...CONSENT, expiresAt: '2025-01-01T00:00:00.000Z' }), 'site-a', secretA);
    expectCode(verifyFederationConsent(badConsent, { keys }), 'federation.payload.invalid');
    // An unparseable consent payload.
    expectCode(verifyFederationConsent({ payloadType: FEDERATION_CONSENT_PAYLOAD_TYPE, payload: b64json('x'), signatures: [] }, { keys }), 'federation.dsse.signature_invalid');
  });

  it('covers every code of the catalogue', () => {
    // The tests above trigger each one; this keeps the list and the tests in step.
    expect([...FEDERATION_ERROR_CODES].sort()).toEqual(
      [
        'federation.consent.digest_mismatch',
        'federation.consent.expired',
        'federation.dsse.payload_type_mismatch',
        'federation.dsse.sign_failed',
        'federation.dsse.signature_invalid',
        'federation.dsse.signer_unavailable',
        'federation.dsse.untrusted_key',
        'federation.payload.invalid',
      ].sort(),
    );
  });
});

describe('unsigned fallback', () => {
  it('is written only when asked for and no signer is available, tagged, and refused unless allowed', async () => {
    const { envelope: consent } = await createFederationConsent(CONSENT, { allowUnsigned: true });
    expect(consent.signatures).toEqual([{ keyid: OFFLINE_UNSIGNED_FALLBACK, sig: '' }]);
    expectCode(verifyFederationConsent(consent, { keys }), 'federation.dsse.signature_invalid');
    expect(verifyFederationConsent(consent, { keys, allowUnsigned: true })).toMatchObject({ ok: true, signer: { keyId: null, fallback: OFFLINE_UNSIGNED_FALLBACK } });
    // With a key available, allowUnsigned changes nothing: the envelope is signed.
    const signed = await createFederationConsent(CONSENT, { keys, keyId: 'site-a', allowUnsigned: true });
    expect(signed.envelope.signatures[0]!.keyid).toBe('site-a');
    const built = await buildFederationBundle({ consent, createdAt: '2026-02-01T00:00:00Z', buckets: [] }, { allowUnsigned: true });
    expectCode(verifyFederationBundle(built.envelope, consent, { keys }), 'federation.dsse.signature_invalid');
    const v = verifyFederationBundle(built.envelope, consent, { allowUnsigned: true });
    expect(v).toMatchObject({ ok: true, signer: { fallback: OFFLINE_UNSIGNED_FALLBACK }, consentSigner: { fallback: OFFLINE_UNSIGNED_FALLBACK } });
  });
});

describe('determinism', () => {
  it('the same logical input gives the same bytes and bundle id, whatever the order of observations and bucket inputs', async () => {
    const a = await consentAndBundle();
    const b = await consentAndBundle();
    expect(canonical(b.consent)).toBe(canonical(a.consent));
    expect(JSON.stringify(b.envelope)).toBe(JSON.stringify(a.envelope));
    expect(b.payload.bundleId).toBe(a.payload.bundleId);
    // Observations shuffled, createdAt spelled with an offset: the same instant, the same bundle.
    const obs = observations({ 'CVE-2026-0002': { artifacts: 6, per: 2, noisy: 7 }, 'CVE-2026-0001': { artifacts: 5, per: 1, noisy: 0 }, 'CVE-2026-0003': { artifacts: 2, per: 3, noisy: 1 } });
    const shuffled = obs.map((o, i) => ({ o, k: (i * 7919) % obs.length })).sort((x, y) => x.k - y.k).map((x) => x.o);
    const c = await buildFederationBundle({ consent: a.consent, createdAt: '2026-02-01T01:00:00+01:00', observations: shuffled }, { keys, keyId: 'site-a' });
    expect(JSON.stringify(c.envelope)).toBe(JSON.stringify(a.envelope));
    // Buckets given directly in another order.
    const d = await buildFederationBundle({ consent: a.consent, createdAt: '2026-02-01T00:00:00Z', buckets: [...a.payload.buckets].reverse() }, { keys, keyId: 'site-a' });
    expect(d.payload.bundleId).toBe(a.payload.bundleId);
    // The consent id derives from its content when none is given.
    expect(a.consent.payload).toBe(b.consent.payload);
    expect(String(payloadOf(a.consent)['consentId'])).toMatch(/^consent-[0-9a-f]{32}$/);
    // bundleId is sha256 of the canonical payload without bundleId, computed here independently.
    const { bundleId, ...rest } = payloadOf(a.envelope);
    expect(bundleId).toBe(`sha256:${createHash('sha256').update(canonical(rest)).digest('hex')}`);
    // Another createdAt (the fixed clock input) is another bundle.
    const later = await buildFederationBundle({ consent: a.consent, createdAt: '2026-02-01T00:00:01Z', observations: obs }, { keys, keyId: 'site-a' });
    expect(later.payload.bundleId).not.toBe(a.payload.bundleId);
  });

  it('orders buckets by cveId ordinal, then noisyCount descending, artifactCount, observationCount', () => {
    const buckets: FederationBucket[] = [
      { cveId: 'CVE-b', noisyCount: 1, artifactCount: 5, observationCount: 9 },
      { cveId: 'CVE-B', noisyCount: 0, artifactCount: 5, observationCount: 5 },
      { cveId: 'CVE-a', noisyCount: 1, artifactCount: 6, observationCount: 6 },
      { cveId: 'CVE-a', noisyCount: 3, artifactCount: 7, observationCount: 7 },
      { cveId: 'CVE-a', noisyCount: 1, artifactCount: 5, observationCount: 8 },
      { cveId: 'CVE-a', noisyCount: 1, artifactCount: 5, observationCount: 6 },
    ];
    expect([...buckets].sort(compareBuckets).map((b) => `${b.cveId}/${b.noisyCount}/${b.artifactCount}/${b.observationCount}`)).toEqual([
      // Ordinal: upper case before lower case.
      'CVE-B/0/5/5',
      'CVE-a/3/7/7',
      'CVE-a/1/5/6',
      'CVE-a/1/5/8',
      'CVE-a/1/6/6',
      'CVE-b/1/5/9',
    ]);
  });
});

describe('aggregation and k-anonymity', () => {
  it('counts observations, distinct artifacts and noisy observations, and leaves out buckets seen in fewer than k artifacts', () => {
    const obs = observations({ 'CVE-4': { artifacts: 4, per: 1, noisy: 4 }, 'CVE-5': { artifacts: 5, per: 2, noisy: 3 }, 'CVE-9': { artifacts: 9, per: 1, noisy: 0 } });
    const k5 = aggregateFederationBuckets(obs);
    expect(k5.buckets).toEqual([
      { cveId: 'CVE-5', noisyCount: 3, artifactCount: 5, observationCount: 10 },
      { cveId: 'CVE-9', noisyCount: 0, artifactCount: 9, observationCount: 9 },
    ]);
    expect(k5.suppressed).toBe(1);
    // Exactly k artifacts is enough; k - 1 is not.
    expect(aggregateFederationBuckets(obs, 4).buckets.map((b) => b.cveId)).toEqual(['CVE-4', 'CVE-5', 'CVE-9']);
    expect(aggregateFederationBuckets(obs, 6)).toMatchObject({ buckets: [{ cveId: 'CVE-9' }], suppressed: 2 });
    expect(aggregateFederationBuckets(obs, 10)).toEqual({ buckets: [], suppressed: 3 });
  });

  it('the bundle carries only the buckets that pass k', async () => {
    const { payload, suppressed } = await consentAndBundle();
    expect(payload.buckets.map((b) => b.cveId)).toEqual(['CVE-2026-0001', 'CVE-2026-0002']);
    expect(payload.buckets[1]).toEqual({ cveId: 'CVE-2026-0002', noisyCount: 7, artifactCount: 6, observationCount: 12 });
    expect(suppressed).toBe(1);
  });

  it('reads observations from findings documents: not_affected and false_positive are noisy', () => {
    const { observations: obs, skipped } = observationsFromFindings('evaluation/eval-1', [
      { advisory_id: 'CVE-1', vex_status: 'not_affected' },
      { advisory_id: 'CVE-2', vex_status: 'affected' },
      { advisory_id: 'CVE-3', vex_status: 'false_positive' },
      { advisory_id: 'CVE-4', vex_status: 'none' },
      { vex_status: 'not_affected' },
      'junk',
    ]);
    expect(obs).toEqual([
      { cveId: 'CVE-1', artifact: 'evaluation/eval-1', noisy: true },
      { cveId: 'CVE-2', artifact: 'evaluation/eval-1', noisy: false },
      { cveId: 'CVE-3', artifact: 'evaluation/eval-1', noisy: true },
      { cveId: 'CVE-4', artifact: 'evaluation/eval-1', noisy: false },
    ]);
    expect(skipped).toBe(2);
  });
});

describe('consent expiry at the boundary', () => {
  it('holds up to the millisecond before expiresAt, not at it', async () => {
    const { envelope: consent } = await createFederationConsent(CONSENT, { keys, keyId: 'site-a' });
    const sign = { keys, keyId: 'site-a' };
    const before = await buildFederationBundle({ consent, createdAt: '2026-03-31T23:59:59.999Z', buckets: [] }, sign);
    expect(verifyFederationBundle(before.envelope, consent, { keys }).ok).toBe(true);
    await expect(buildFederationBundle({ consent, createdAt: CONSENT.expiresAt, buckets: [] }, sign)).rejects.toMatchObject({ code: 'federation.consent.expired' });
    // At grantedAt it holds; before it, the bundle cannot have been made under it.
    expect((await buildFederationBundle({ consent, createdAt: CONSENT.grantedAt, buckets: [] }, sign)).payload.createdAt).toBe(CONSENT.grantedAt);
    await expect(buildFederationBundle({ consent, createdAt: '2025-12-31T23:59:59.999Z', buckets: [] }, sign)).rejects.toMatchObject({ code: 'federation.payload.invalid' });
    expect(verifyFederationConsent(consent, { keys, at: '2026-03-31T23:59:59.999Z' }).ok).toBe(true);
    expectCode(verifyFederationConsent(consent, { keys, at: CONSENT.expiresAt }), 'federation.consent.expired');
  });
});

describe('key map', () => {
  it('is {"keys": {"<keyid>": "<base64 secret>"}} and refuses anything else', () => {
    for (const bad of ['nope', '[]', '{"keys": []}', '{"keys": {"a": 1}}', '{"keys": {"a": "***"}}', `{"keys": {"${OFFLINE_UNSIGNED_FALLBACK}": "AAAA"}}`, '{"keys": {" spaced": "AAAA"}}']) {
      expect(() => parseFederationKeyMap(bad), bad).toThrow(expect.objectContaining({ code: 'invalid_keyring' }));
    }
    expect([...parseFederationKeyMap('{"keys": {"k1": "AAAAAAAAAAAAAAAAAAAAAA=="}}').keys.keys()]).toEqual(['k1']);
  });

  it('an unsigned envelope the caller did not ask for is never made', async () => {
    const env = await signFederationEnvelope(FEDERATION_CONSENT_PAYLOAD_TYPE, { a: 1 }, { keys: onlyA });
    expect(env.signatures[0]!.keyid).toBe('site-a');
  });
});
