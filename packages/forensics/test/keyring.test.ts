import { describe, expect, it } from 'vitest';
import { Keyring, createKeySigner, generateSigningKeyPair, signDsse, verifyDsse, type KeyringDocument } from '../src/index.js';

const root = generateSigningKeyPair();
const second = generateSigningKeyPair('ed25519');
const rootSigner = createKeySigner(root.privateKeyPem);
const secondSigner = createKeySigner(second.privateKeyPem);

describe('Keyring with a signed rotation log', () => {
  it('derives validity windows from rotation and survives a JSON round trip', async () => {
    const ring = await Keyring.create({ signer: rootSigner, at: '2025-01-01T00:00:00.000Z' });
    await ring.rotate(second.publicKeyPem, { signer: rootSigner, at: '2025-06-01T00:00:00.000Z' });
    const loaded = Keyring.fromJSON(JSON.stringify(ring.toJSON()), { trustedRootKeyIds: [root.keyId] });
    expect(loaded.entries().map((e) => e.op)).toEqual(['add', 'add', 'retire']);
    expect(loaded.checkKey(root.keyId, new Date('2025-03-01T00:00:00Z')).ok).toBe(true);
    expect(loaded.checkKey(root.keyId, new Date('2025-06-01T00:00:00Z'))).toMatchObject({ ok: false, code: 'key_outside_validity' });
    expect(loaded.checkKey(second.keyId, new Date('2025-05-31T23:59:59Z'))).toMatchObject({ ok: false, code: 'key_outside_validity' });
    expect(loaded.checkKey(second.keyId, new Date('2026-01-01T00:00:00Z')).ok).toBe(true);
    expect(loaded.checkKey('ab'.repeat(32), new Date())).toMatchObject({ ok: false, code: 'key_unknown' });
  });

  it('rejects signatures by a revoked key whenever they were made, through DSSE verification too', async () => {
    const ring = await Keyring.create({ signer: rootSigner, at: '2025-01-01T00:00:00.000Z' });
    await ring.add(second.publicKeyPem, { signer: rootSigner, at: '2025-01-02T00:00:00.000Z' });
    const env = await signDsse('payload', 'text/plain', rootSigner);
    expect(verifyDsse(env, { keyring: ring, signedAt: new Date('2025-01-05T00:00:00Z') }).ok).toBe(true);
    await ring.revoke(root.keyId, { signer: secondSigner, at: '2025-02-01T00:00:00.000Z', reason: 'key compromise' });
    const v = verifyDsse(env, { keyring: ring, signedAt: new Date('2025-01-05T00:00:00Z') });
    expect(v.ok).toBe(false);
    expect(v.failures.map((f) => f.code)).toContain('key_revoked');
  });

  it('refuses entries signed by a key that is not active, and appends nothing', async () => {
    const ring = await Keyring.create({ signer: rootSigner, at: '2025-01-01T00:00:00.000Z' });
    await expect(ring.add(generateSigningKeyPair().publicKeyPem, { signer: secondSigner, at: '2025-01-02T00:00:00.000Z' })).rejects.toMatchObject({ code: 'key_not_active' });
    await ring.retire(root.keyId, { signer: rootSigner, at: '2025-02-01T00:00:00.000Z' });
    await expect(ring.add(second.publicKeyPem, { signer: rootSigner, at: '2025-03-01T00:00:00.000Z' })).rejects.toMatchObject({ code: 'key_not_active' });
    await expect(ring.revoke(root.keyId, { signer: rootSigner, at: '2025-01-15T00:00:00.000Z' })).rejects.toThrow(/backwards/);
    expect(ring.entries()).toHaveLength(2);
  });

  it('detects a tampered, truncated-then-extended, reordered or substituted log', async () => {
    const ring = await Keyring.create({ signer: rootSigner, at: '2025-01-01T00:00:00.000Z' });
    await ring.add(second.publicKeyPem, { signer: rootSigner, at: '2025-01-02T00:00:00.000Z' });
    await ring.revoke(root.keyId, { signer: secondSigner, at: '2025-02-01T00:00:00.000Z' });
    const doc = ring.toJSON();

    // Dropping the revocation is possible only by truncation, which changes nothing else — but a
    // forged entry in its place must chain and be signed.
    const dropped: KeyringDocument = { version: 1, log: doc.log.slice(0, 2) };
    expect(Keyring.fromJSON(dropped).checkKey(root.keyId, new Date('2025-01-05T00:00:00Z')).ok).toBe(true);

    const reordered: KeyringDocument = { version: 1, log: [doc.log[0]!, doc.log[2]!, doc.log[1]!] };
    expect(() => Keyring.fromJSON(reordered)).toThrow(expect.objectContaining({ code: 'rotation_log_invalid' }));

    const payload = JSON.parse(Buffer.from(doc.log[2]!.payload, 'base64').toString()) as Record<string, unknown>;
    const edited = { ...doc.log[2]!, payload: Buffer.from(JSON.stringify({ ...payload, keyId: second.keyId })).toString('base64') };
    expect(() => Keyring.fromJSON({ version: 1, log: [doc.log[0], doc.log[1], edited] })).toThrow(/not signed by a key active/);

    const stranger = generateSigningKeyPair();
    const foreign = await Keyring.create({ signer: createKeySigner(stranger.privateKeyPem), at: '2025-01-01T00:00:00.000Z' });
    expect(() => Keyring.fromJSON(foreign.toJSON(), { trustedRootKeyIds: [root.keyId] })).toThrow(/not a trusted root/);
    expect(() => Keyring.fromJSON('{"version":1,"log":[]}')).toThrow(expect.objectContaining({ code: 'invalid_keyring' }));
    expect(() => Keyring.fromJSON('nope')).toThrow(expect.objectContaining({ code: 'invalid_keyring' }));
  });
});
