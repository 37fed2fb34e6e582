import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeySigner, generateSigningKeyPair, loadPublicKey, pae, parseDsseEnvelope, signDsse, verifyDsse } from '../src/index.js';

describe('DSSE', () => {
  it('encodes PAE exactly as the DSSE v1 protocol test vector', () => {
    // secure-systems-lab/dsse protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    const expected = Buffer.from('DSSEv1 29 http://example.com/HelloWorld 11 hello world', 'ascii');
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).equals(expected)).toBe(true);
    // Lengths are byte counts, not characters.
    expect(pae('t', Buffer.from('é')).equals(Buffer.from('DSSEv1 1 t 2 é'))).toBe(true);
  });

  for (const algorithm of ['ecdsa-p256-sha256', 'ed25519'] as const) {
    it(`signs with ${algorithm}, verifiable independently over the reconstructed PAE`, async () => {
      const pair = generateSigningKeyPair(algorithm);
      const signer = createKeySigner(pair.privateKeyPem);
      expect(signer.keyId).toBe(pair.keyId);
      const env = await signDsse('{"a":1}', 'application/vnd.test+json', signer);
      expect(env.signatures[0]!.keyid).toBe(pair.keyId);

      // Independent path: node:crypto over PAE rebuilt by hand from the envelope's fields.
      const body = Buffer.from(env.payload, 'base64');
      const message = Buffer.concat([
        Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${body.length} `),
        body,
      ]);
      const pub = createPublicKey(pair.publicKeyPem);
      const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
      const ok = algorithm === 'ed25519' ? verify(null, message, pub, sig) : verify('sha256', message, pub, sig);
      expect(ok).toBe(true);

      const v = verifyDsse(env, { keys: [loadPublicKey(pair.publicKeyPem)] });
      expect(v.ok).toBe(true);
      expect(v.payload.toString()).toBe('{"a":1}');
      expect(v.verifiedKeyIds).toEqual([pair.keyId]);
    });
  }

  it('accepts URL-safe base64 and rejects malformed base64', async () => {
    const pair = generateSigningKeyPair();
    const key = loadPublicKey(pair.publicKeyPem);
    // Find a payload whose base64 uses + or / so the URL-safe form differs.
    const payload = Buffer.from([0xfb, 0xff, 0xfe, 0x3e, 0x3f]);
    const env = await signDsse(payload, 'application/octet-stream', createKeySigner(pair.privateKeyPem));
    const urlSafe = {
      ...env,
      payload: env.payload.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
      signatures: env.signatures.map((s) => ({ ...s, sig: s.sig.replace(/\+/g, '-').replace(/\//g, '_') })),
    };
    expect(urlSafe.payload).not.toBe(env.payload);
    expect(verifyDsse(urlSafe, { keys: [key] }).ok).toBe(true);
    const broken = { ...env, signatures: [{ keyid: pair.keyId, sig: `${env.signatures[0]!.sig.slice(0, -4)}*!*!` }] };
    const v = verifyDsse(broken, { keys: [key] });
    expect(v.ok).toBe(false);
    expect(v.failures.map((f) => f.code)).toContain('signature_invalid');
  });

  it('rejects a changed payload, a changed payload type, a wrong key and a wrong expected type', async () => {
    const a = generateSigningKeyPair();
    const b = generateSigningKeyPair();
    const env = await signDsse('hello', 'text/plain', createKeySigner(a.privateKeyPem));
    const keyA = loadPublicKey(a.publicKeyPem);
    const tamperedPayload = { ...env, payload: Buffer.from('hellO').toString('base64') };
    expect(verifyDsse(tamperedPayload, { keys: [keyA] }).failures.map((f) => f.code)).toContain('signature_invalid');
    expect(verifyDsse({ ...env, payloadType: 'text/html' }, { keys: [keyA] }).ok).toBe(false);
    const wrongKey = verifyDsse(env, { keys: [loadPublicKey(b.publicKeyPem)] });
    expect(wrongKey.failures.map((f) => f.code)).toContain('key_unknown');
    expect(verifyDsse(env, { keys: [keyA], payloadType: 'application/json' }).failures.map((f) => f.code)).toContain('payload_type_mismatch');
    // An empty keyid (as cosign writes) is tried against every trusted key.
    const anonymous = { ...env, signatures: [{ keyid: '', sig: env.signatures[0]!.sig }] };
    expect(verifyDsse(anonymous, { keys: [loadPublicKey(b.publicKeyPem), keyA] }).ok).toBe(true);
  });

  it('enforces t-of-n over distinct keys', async () => {
    const pairs = [generateSigningKeyPair(), generateSigningKeyPair('ed25519'), generateSigningKeyPair()];
    const keys = pairs.map((p) => loadPublicKey(p.publicKeyPem));
    const two = await signDsse('x', 'text/plain', [createKeySigner(pairs[0]!.privateKeyPem), createKeySigner(pairs[1]!.privateKeyPem)]);
    expect(verifyDsse(two, { keys, threshold: 2 }).ok).toBe(true);
    const v3 = verifyDsse(two, { keys, threshold: 3 });
    expect(v3.ok).toBe(false);
    expect(v3.failures.map((f) => f.code)).toContain('threshold_not_met');
    // The same key signing twice counts once.
    const twice = { ...two, signatures: [two.signatures[0]!, two.signatures[0]!] };
    expect(verifyDsse(twice, { keys, threshold: 2 }).ok).toBe(false);
  });

  it('refuses envelopes of the wrong shape with a typed error', () => {
    expect(() => parseDsseEnvelope('{')).toThrow(expect.objectContaining({ code: 'invalid_envelope' }));
    expect(() => parseDsseEnvelope({ payload: 'aGk=', payloadType: 'x' })).toThrow(/signatures/);
    expect(verifyDsse('not json', { keys: [] }).failures[0]!.code).toBe('envelope_invalid');
  });
});
