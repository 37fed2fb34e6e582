/**
 * The Console's in-browser DSSE verifier, run in Node with its WebCrypto (`globalThis.crypto.subtle`,
 * what the browser has): keys made at test time (ECDSA P-256 and Ed25519), key rings whose
 * rotation logs are replayed, tampered envelopes and logs, artifacts against subjects — and a
 * cross-check with the forensics library the service signs with, both ways.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createKeySigner, generateSigningKeyPair, jcs, Keyring, jobProvenance, signDsse, signStatement, verifyDsse, loadPublicKey } from '@stellaops/forensics';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64,
  ecdsaDerToRaw,
  encodeBase64,
  IN_TOTO_PAYLOAD_TYPE,
  MANIFEST_PAYLOAD_TYPE,
  P256_ORDER,
  pae,
  parseEnvelope,
  replayKeyring,
  ROTATION_PAYLOAD_TYPE,
  spkiAlgorithm,
  pemToDer,
  verifyEnvelopeFile,
  type DsseEnvelope,
} from '../src/attest/dsse-verify.js';

const subtle = globalThis.crypto.subtle;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

type Algorithm = 'ecdsa' | 'ed25519';

interface TestKey {
  algorithm: Algorithm;
  keyId: string;
  publicKeyPem: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

function pem(der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
}

/** A DER INTEGER of an unsigned value. */
function derInteger(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function derSignature(r: bigint, s: bigint): Uint8Array {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}

/** A key made with WebCrypto; ECDSA signatures in DER, low-S, as the service writes them. */
async function webCryptoKey(algorithm: Algorithm): Promise<TestKey> {
  const params = algorithm === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await subtle.generateKey(params, true, ['sign', 'verify'])) as { publicKey: CryptoKey; privateKey: CryptoKey };
  const spki = await subtle.exportKey('spki', pair.publicKey);
  return {
    algorithm,
    keyId: sha256(new Uint8Array(spki)),
    publicKeyPem: pem(spki),
    async sign(data) {
      if (algorithm === 'ed25519') return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, pair.privateKey, data.slice()));
      const raw = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data.slice()));
      const r = BigInt(`0x${Buffer.from(raw.subarray(0, 32)).toString('hex')}`);
      let s = BigInt(`0x${Buffer.from(raw.subarray(32)).toString('hex')}`);
      if (s > P256_ORDER / 2n) s = P256_ORDER - s;
      return derSignature(r, s);
    },
  };
}

async function envelopeOf(payloadType: string, payload: string, keys: TestKey[], keyid = true): Promise<DsseEnvelope> {
  const body = text(payload);
  const signatures = [];
  for (const k of keys) signatures.push({ keyid: keyid ? k.keyId : '', sig: encodeBase64(await k.sign(pae(payloadType, body))) });
  return { payload: encodeBase64(body), payloadType, signatures };
}

/** A rotation log as the service's key ring writes it: hash-chained DSSE entries. */
class TestLog {
  readonly log: DsseEnvelope[] = [];
  private prev = '0'.repeat(64);

  async append(entry: Record<string, unknown>, signer: TestKey): Promise<void> {
    const payload = jcs({ seq: this.log.length, prev: this.prev, ...entry });
    this.log.push(await envelopeOf(ROTATION_PAYLOAD_TYPE, payload, [signer]));
    this.prev = sha256(payload);
  }

  static async start(key: TestKey, at: string, extra: Record<string, unknown> = {}): Promise<TestLog> {
    const log = new TestLog();
    await log.append({ op: 'add', at, keyId: key.keyId, publicKeyPem: key.publicKeyPem, notBefore: at, ...extra }, key);
    return log;
  }
}

const T0 = '2026-01-01T00:00:00.000Z';

function statement(subjects: { name: string; content: string }[], finishedOn = '2026-03-01T12:00:00.000Z') {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: sha256(s.content) } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'test', externalParameters: {} }, runDetails: { builder: { id: 'test-builder' }, metadata: { finishedOn } } },
  };
}

const checkOf = (v: Awaited<ReturnType<typeof verifyEnvelopeFile>>, id: string) => v.checks.filter((c) => c.id === id);

describe('the DSSE building blocks', () => {
  it('PAE is "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in bytes', () => {
    expect(Buffer.from(pae('application/x', text('hé'))).toString('utf8')).toBe('DSSEv1 13 application/x 3 hé');
    expect(Buffer.from(pae(IN_TOTO_PAYLOAD_TYPE, text('{}')))).toEqual(Buffer.from(pae(IN_TOTO_PAYLOAD_TYPE, text('{}'))));
  });

  it('decodes standard and URL-safe base64, padded or not, only in its canonical spelling', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x10]);
    expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(decodeBase64('+/8AEA==')).toEqual(bytes);
    expect(decodeBase64('-_8AEA')).toEqual(bytes);
    for (let n = 0; n < 40; n++) {
      const b = new Uint8Array(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(decodeBase64(encodeBase64(b))).toEqual(b);
      expect(encodeBase64(b)).toBe(Buffer.from(b).toString('base64'));
    }
    expect(() => decodeBase64('+/8AEB==')).toThrow(/not valid base64/); // non-zero unused bits
    expect(() => decodeBase64('+/8AEA=')).toThrow(/not valid base64/); // wrong padding
    expect(() => decodeBase64('+/8A EA==')).toThrow(/not valid base64/);
    expect(() => decodeBase64('+_8AEA==')).toThrow(/not valid base64/); // mixed alphabets
  });

  it('reads the algorithm from the SubjectPublicKeyInfo', async () => {
    expect(spkiAlgorithm(pemToDer((await webCryptoKey('ecdsa')).publicKeyPem))).toBe('ecdsa-p256-sha256');
    expect(spkiAlgorithm(pemToDer((await webCryptoKey('ed25519')).publicKeyPem))).toBe('ed25519');
    const rsa = generateRsaPem();
    expect(() => spkiAlgorithm(pemToDer(rsa))).toThrow(/ECDSA P-256 or Ed25519/);
  });

  it('takes ECDSA signatures only in strict DER with a low S', () => {
    const good = derSignature(5n, 7n);
    const raw = ecdsaDerToRaw(good);
    expect(raw.ok && Buffer.from(raw.raw).toString('hex')).toBe(`${'0'.repeat(63)}5${'0'.repeat(63)}7`);
    expect(ecdsaDerToRaw(derSignature(5n, P256_ORDER - 7n))).toMatchObject({ ok: false, code: 'signature_high_s' });
    expect(ecdsaDerToRaw(derSignature(0n, 7n))).toMatchObject({ ok: false, code: 'signature_malformed' });
    // A needless leading zero, trailing bytes, a long-form length below 128.
    expect(ecdsaDerToRaw(new Uint8Array([0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x07]))).toMatchObject({ ok: false, code: 'signature_malformed' });
    expect(ecdsaDerToRaw(new Uint8Array([...good, 0]))).toMatchObject({ ok: false, code: 'signature_malformed' });
    expect(ecdsaDerToRaw(new Uint8Array([0x30, 0x81, 0x06, ...good.subarray(2)]))).toMatchObject({ ok: false, code: 'signature_malformed' });
  });

  it('names what is wrong with an envelope', () => {
    expect(() => parseEnvelope('nope')).toThrow('the file is not JSON');
    expect(() => parseEnvelope('[]')).toThrow('a DSSE envelope is a JSON object');
    expect(() => parseEnvelope({ payloadType: 'x', signatures: [] })).toThrow('lacks a string "payload"');
    expect(() => parseEnvelope({ payload: 'e30=', signatures: [] })).toThrow('lacks a "payloadType"');
    expect(() => parseEnvelope({ payload: 'e30=', payloadType: 'x' })).toThrow('lacks a "signatures" array');
    expect(() => parseEnvelope({ payload: 'e30=', payloadType: 'x', signatures: [{}] })).toThrow('signature 0 lacks a string "sig"');
    expect(() => parseEnvelope({ payload: 'e3 0=', payloadType: 'x', signatures: [] })).toThrow('the payload is not valid base64');
    expect(parseEnvelope({ payload: 'e30=', payloadType: 'x', signatures: [{ sig: 'AA==' }] }).signatures).toEqual([{ keyid: '', sig: 'AA==' }]);
  });
});

/** A key type the verifier must refuse. */
function generateRsaPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe('the key ring: its rotation log replayed', () => {
  it('follows adds, rotations, retirements and revocations', async () => {
    const [a, b, c] = [await webCryptoKey('ecdsa'), await webCryptoKey('ed25519'), await webCryptoKey('ecdsa')];
    const log = await TestLog.start(a, T0);
    await log.append({ op: 'add', at: '2026-02-01T00:00:00.000Z', keyId: b.keyId, publicKeyPem: b.publicKeyPem, notBefore: '2026-02-01T00:00:00.000Z' }, a);
    await log.append({ op: 'retire', at: '2026-02-01T00:00:00.000Z', keyId: a.keyId }, a);
    await log.append({ op: 'add', at: '2026-03-01T00:00:00.000Z', keyId: c.keyId, publicKeyPem: c.publicKeyPem }, b);
    await log.append({ op: 'revoke', at: '2026-04-01T00:00:00.000Z', keyId: c.keyId, reason: 'compromised' }, b);
    const ring = await replayKeyring(subtle, log.log);
    expect(ring.entries).toBe(5);
    expect(ring.rootKeyId).toBe(a.keyId);
    const byId = new Map(ring.keys.map((k) => [k.keyId, k]));
    expect(byId.get(a.keyId)).toMatchObject({ algorithm: 'ecdsa-p256-sha256', notAfter: new Date('2026-02-01T00:00:00.000Z') });
    expect(byId.get(b.keyId)).toMatchObject({ algorithm: 'ed25519', notBefore: new Date('2026-02-01T00:00:00.000Z') });
    expect(byId.get(b.keyId)!.notAfter).toBeUndefined();
    expect(byId.get(c.keyId)).toMatchObject({ revokedAt: new Date('2026-04-01T00:00:00.000Z'), revocationReason: 'compromised' });
  });

  it('refuses an altered, reordered, wrongly signed or backdated log, naming the entry', async () => {
    const [a, b, outsider] = [await webCryptoKey('ecdsa'), await webCryptoKey('ecdsa'), await webCryptoKey('ed25519')];
    const log = await TestLog.start(a, T0);
    await log.append({ op: 'add', at: '2026-02-01T00:00:00.000Z', keyId: b.keyId, publicKeyPem: b.publicKeyPem }, a);
    await expect(replayKeyring(subtle, [])).rejects.toThrow('the key ring has no rotation log');
    await expect(replayKeyring(subtle, [log.log[1]!, log.log[0]!])).rejects.toThrow(/entry 0: sequence number 1 out of order/);

    const edited = structuredClone(log.log);
    const entry = JSON.parse(Buffer.from(edited[1]!.payload, 'base64').toString()) as Record<string, unknown>;
    edited[1] = { ...edited[1]!, payload: Buffer.from(JSON.stringify({ ...entry, at: '2026-02-02T00:00:00.000Z' })).toString('base64') };
    await expect(replayKeyring(subtle, edited)).rejects.toThrow(/entry 1: not signed by a key active at/);

    const unchained = await TestLog.start(a, T0);
    await unchained.append({ op: 'add', at: '2026-02-01T00:00:00.000Z', keyId: b.keyId, publicKeyPem: b.publicKeyPem, prev: 'f'.repeat(64) }, a);
    await expect(replayKeyring(subtle, unchained.log)).rejects.toThrow(/entry 1: does not chain to the previous entry/);

    const byOutsider = await TestLog.start(a, T0);
    await byOutsider.append({ op: 'add', at: '2026-02-01T00:00:00.000Z', keyId: b.keyId, publicKeyPem: b.publicKeyPem }, outsider);
    await expect(replayKeyring(subtle, byOutsider.log)).rejects.toThrow(/entry 1: not signed by a key active at 2026-02-01/);

    const backwards = await TestLog.start(a, '2026-02-01T00:00:00.000Z');
    await backwards.append({ op: 'retire', at: T0, keyId: a.keyId }, a);
    await expect(replayKeyring(subtle, backwards.log)).rejects.toThrow(/entry 1: time goes backwards/);

    const selfSigned = new TestLog();
    await selfSigned.append({ op: 'add', at: T0, keyId: a.keyId, publicKeyPem: a.publicKeyPem }, b);
    await expect(replayKeyring(subtle, selfSigned.log)).rejects.toThrow(/entry 0: the first entry is not signed by the key it adds/);

    const wrongId = new TestLog();
    await wrongId.append({ op: 'add', at: T0, keyId: b.keyId, publicKeyPem: a.publicKeyPem }, a);
    await expect(replayKeyring(subtle, wrongId.log)).rejects.toThrow(/entry 0: keyId does not match the public key/);
  });
});

describe('verifying an envelope file in the browser', () => {
  const finished = '2026-03-01T12:00:00.000Z';

  it.each(['ecdsa', 'ed25519'] as const)('verifies an in-toto statement signed with %s and matches the artifact to its subject', async (algorithm) => {
    const key = await webCryptoKey(algorithm);
    const log = await TestLog.start(key, T0);
    const env = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'outcome.json', content: 'the outcome' }, { name: 'report.json', content: 'the report' }], finished)), [key]);
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: log.log, artifact: { name: 'report.json', bytes: text('the report') } });
    expect(v.ok, JSON.stringify(v.checks, null, 2)).toBe(true);
    expect(v.checks.map((c) => [c.id, c.ok])).toEqual([
      ['envelope', true],
      ['keyring', true],
      ['payload', true],
      ['time', true],
      ['signature', true],
      ['signers', true],
      ['artifact', true],
    ]);
    expect(v.signerKeyIds).toEqual([key.keyId]);
    expect(v.signedAt).toBe(finished);
    expect(v.signedAtSource).toBe('statement');
    expect(v.matched).toBe('report.json');
    expect(v.statement?.subject.map((s) => s.name)).toEqual(['outcome.json', 'report.json']);
  });

  it('verifies without an artifact (that check is not run), and with a keyid left empty', async () => {
    const key = await webCryptoKey('ecdsa');
    const log = await TestLog.start(key, T0);
    const env = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }])), [key], false);
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: log.log });
    expect(v.ok).toBe(true);
    expect(checkOf(v, 'artifact')[0]).toMatchObject({ ok: undefined, detail: 'no artifact file given' });
  });

  it('rejects a tampered payload, an artifact that is no subject, and a signature of another key', async () => {
    const key = await webCryptoKey('ecdsa');
    const other = await webCryptoKey('ecdsa');
    const log = await TestLog.start(key, T0);
    const env = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'outcome.json', content: 'the outcome' }])), [key]);

    const tampered = { ...env, payload: Buffer.from(JSON.stringify(statement([{ name: 'outcome.json', content: 'another outcome' }]))).toString('base64') };
    const t = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(tampered), keyringLog: log.log });
    expect(t.ok).toBe(false);
    expect(checkOf(t, 'signature')[0]).toMatchObject({ ok: false, code: 'signature_invalid', detail: 'the signature does not verify' });
    expect(checkOf(t, 'signers')[0]).toMatchObject({ ok: false, code: 'threshold_not_met' });

    const wrongArtifact = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: log.log, artifact: { name: 'outcome.json', bytes: text('not the outcome') } });
    expect(wrongArtifact.ok).toBe(false);
    expect(checkOf(wrongArtifact, 'artifact')[0]).toMatchObject({ ok: false, code: 'subject_mismatch' });
    expect(checkOf(wrongArtifact, 'artifact')[0]!.detail).toContain(`sha256 ${sha256('not the outcome')}`);

    const foreign = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }])), [other]);
    const f = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(foreign), keyringLog: log.log });
    expect(checkOf(f, 'signature')[0]).toMatchObject({ ok: false, code: 'key_unknown', detail: `key ${other.keyId} is not in the key ring` });

    // One signature by a trusted key is enough; the other is shown, not counted.
    const both = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }])), [other, key]);
    const b = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(both), keyringLog: log.log });
    expect(b.ok).toBe(true);
    expect(checkOf(b, 'signature').map((c) => c.ok)).toEqual([undefined, true]);
  });

  it('checks the key at the time the statement asserts: outside its window, revoked', async () => {
    const key = await webCryptoKey('ed25519');
    const successor = await webCryptoKey('ed25519');
    const log = await TestLog.start(key, T0);
    await log.append({ op: 'add', at: '2026-02-01T00:00:00.000Z', keyId: successor.keyId, publicKeyPem: successor.publicKeyPem }, key);
    await log.append({ op: 'retire', at: '2026-02-01T00:00:00.000Z', keyId: key.keyId }, key);
    const early = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }], '2026-01-15T00:00:00.000Z')), [key]);
    expect((await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(early), keyringLog: log.log })).ok).toBe(true);
    const late = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }], '2026-02-15T00:00:00.000Z')), [key]);
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(late), keyringLog: log.log });
    expect(checkOf(v, 'signature')[0]).toMatchObject({ ok: false, code: 'key_outside_validity' });

    await log.append({ op: 'revoke', at: '2026-03-01T00:00:00.000Z', keyId: key.keyId, reason: 'lost laptop' }, successor);
    const revoked = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(early), keyringLog: log.log });
    expect(checkOf(revoked, 'signature')[0]).toMatchObject({ ok: false, code: 'key_revoked' });
    expect(checkOf(revoked, 'signature')[0]!.detail).toContain('lost laptop');
  });

  it('refuses a high-S mirror image and a malformed signature', async () => {
    const key = await webCryptoKey('ecdsa');
    const log = await TestLog.start(key, T0);
    const env = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }])), [key]);
    const der = decodeBase64(env.signatures[0]!.sig);
    const raw = ecdsaDerToRaw(der);
    if (!raw.ok) throw new Error('expected a good signature');
    const r = BigInt(`0x${Buffer.from(raw.raw.subarray(0, 32)).toString('hex')}`);
    const s = BigInt(`0x${Buffer.from(raw.raw.subarray(32)).toString('hex')}`);
    const mirror = { ...env, signatures: [{ keyid: key.keyId, sig: encodeBase64(derSignature(r, P256_ORDER - s)) }] };
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(mirror), keyringLog: log.log });
    expect(checkOf(v, 'signature')[0]).toMatchObject({ ok: false, code: 'signature_high_s' });
    const garbled = { ...env, signatures: [{ keyid: key.keyId, sig: 'AAAA' }] };
    expect(checkOf(await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(garbled), keyringLog: log.log }), 'signature')[0]).toMatchObject({ ok: false, code: 'signature_malformed' });
  });

  it('says what is wrong with a file that is no envelope, a statement that is no statement, and a broken key ring', async () => {
    const key = await webCryptoKey('ecdsa');
    const log = await TestLog.start(key, T0);
    const notJson = await verifyEnvelopeFile({ subtle, envelope: 'hello', keyringLog: log.log });
    expect(notJson.ok).toBe(false);
    expect(notJson.checks).toEqual([{ id: 'envelope', label: 'DSSE envelope', ok: false, code: 'envelope_invalid', detail: 'the file is not JSON' }]);

    const noSubjects = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x' }), [key]);
    const ns = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(noSubjects), keyringLog: log.log });
    expect(ns.ok).toBe(false);
    expect(checkOf(ns, 'payload')[0]).toMatchObject({ ok: false, code: 'statement_invalid', detail: 'the statement has no subjects' });

    const env = await envelopeOf(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement([{ name: 'a', content: 'a' }])), [key]);
    const broken = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: [{ payload: 'e30=', payloadType: 'x', signatures: [] }] });
    expect(broken.ok).toBe(false);
    expect(checkOf(broken, 'keyring')[0]).toMatchObject({ ok: false, code: 'keyring_invalid' });
    expect(checkOf(broken, 'signature')[0]).toMatchObject({ ok: undefined });
  });

  it("matches an evidence manifest's files and checks its key at the manifest's createdAt", async () => {
    const key = await webCryptoKey('ecdsa');
    const log = await TestLog.start(key, T0);
    const manifest = { bundleId: 'b-1', tenant: 'acme', kind: 'evaluation', createdAt: '2026-05-01T00:00:00.000Z', files: [{ path: 'outputs/decisions.json', size: 2, sha256: sha256('[]') }] };
    const env = await envelopeOf(MANIFEST_PAYLOAD_TYPE, jcs(manifest), [key]);
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: log.log, artifact: { name: 'decisions.json', bytes: text('[]') } });
    expect(v.ok).toBe(true);
    expect(v.signedAtSource).toBe('manifest');
    expect(v.matched).toBe('outputs/decisions.json');
    const miss = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: log.log, artifact: { name: 'x', bytes: text('[1]') } });
    expect(checkOf(miss, 'artifact')[0]).toMatchObject({ ok: false, code: 'digest_mismatch' });
  });
});

describe('cross-check with the forensics library the service signs with', () => {
  it.each(['ecdsa-p256-sha256', 'ed25519'] as const)('a statement signed like the service signs it (%s) verifies against its key ring document', async (algorithm) => {
    const pair = generateSigningKeyPair(algorithm);
    const signer = createKeySigner(pair.privateKeyPem);
    const ring = await Keyring.create({ signer, at: T0 });
    const outcome = '{"result":{"verdict":"deny"}}';
    const st = jobProvenance({
      jobId: 'job-1',
      builderId: 'https://stella-ops.org/task-runner/test',
      runnerImage: { name: 'runner', digest: { sha256: sha256('runner') } },
      outputs: [{ name: 'outcome.json', digest: { sha256: sha256(outcome) } }],
      startedOn: '2026-03-01T00:00:00.000Z',
      finishedOn: '2026-03-01T00:00:01.000Z',
    });
    const env = await signStatement(st, signer);
    const v = await verifyEnvelopeFile({ subtle, envelope: `${JSON.stringify(env, null, 2)}\n`, keyringLog: ring.toJSON().log, artifact: { name: 'outcome.json', bytes: text(outcome) } });
    expect(v.ok, JSON.stringify(v.checks, null, 2)).toBe(true);
    expect(v.signerKeyIds).toEqual([signer.keyId]);

    // A rotation made by the library replays here to the same key states.
    const next = createKeySigner(generateSigningKeyPair(algorithm).privateKeyPem);
    await ring.rotate(next.publicKeyPem, { signer, at: '2026-06-01T00:00:00.000Z' });
    const replayed = await replayKeyring(subtle, ring.toJSON().log);
    expect(replayed.keys.map((k) => [k.keyId, k.notAfter?.toISOString()])).toEqual(ring.keys().map((k) => [k.keyId, k.notAfter?.toISOString()]));
  });

  it('an envelope signed here with WebCrypto verifies with the library, and one the library signs verifies here', async () => {
    for (const algorithm of ['ecdsa', 'ed25519'] as const) {
      const key = await webCryptoKey(algorithm);
      const env = await envelopeOf('application/vnd.test+json', '{"x":1}', [key]);
      const check = verifyDsse(env, { keys: [loadPublicKey(key.publicKeyPem)] });
      expect(check.ok, JSON.stringify(check.failures)).toBe(true);
    }
    const signer = createKeySigner(generateSigningKeyPair('ecdsa-p256-sha256').privateKeyPem);
    const ring = await Keyring.create({ signer, at: T0 });
    const env = await signDsse('{"y":2}', 'application/vnd.test+json', signer);
    const v = await verifyEnvelopeFile({ subtle, envelope: JSON.stringify(env), keyringLog: ring.toJSON().log, now: new Date('2026-02-01T00:00:00.000Z') });
    expect(v.ok).toBe(true);
    expect(v.signedAtSource).toBe('now');
  });
});
