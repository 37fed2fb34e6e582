/**
 * Every bundle ships a Sigstore bundle v0.3 (`manifest.sigstore.json`): the Sigstore libraries
 * verify it given only the public key (and, for its timestamp, the TSA's certificate chain).
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  buildEvidenceBundle,
  canonicalTimestampResponse,
  createHttpTimestamper,
  createKeySigner,
  encodeEcdsaSignature,
  generateSigningKeyPair,
  parseEcdsaSignature,
  verifyCanonicalTimestamp,
  type BuildEvidenceBundleOptions,
} from '../src/index.js';
import { children, parseDer, tlv } from '../src/encoding/der.js';
import { SMALL_FILES, scratch } from './helpers/fixture.js';
import { startTestTsa, type TestTsa } from './helpers/openssl-tsa.js';

const run = promisify(execFile);
const pair = generateSigningKeyPair();
const signer = createKeySigner(pair.privateKeyPem);
let work: { dir: string; cleanup: () => Promise<void> };
let tsa: TestTsa;
let url: string;

function options(directory: string, extra: Partial<BuildEvidenceBundleOptions> = {}): BuildEvidenceBundleOptions {
  return {
    kind: 'evaluation',
    tenant: 'tenant-a',
    caseId: 'case-42',
    resourceId: 'eval-7',
    createdAt: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000),
    signer,
    files: Object.entries(SMALL_FILES).map(([path, source]) => ({ path, source })),
    output: { directory },
    ...extra,
  };
}

/** Sigstore trust material holding only our public key (by its hint) and, optionally, the TSA's chain. */
async function trustMaterial(withTsa: boolean, keyPem = pair.publicKeyPem, keyId = pair.keyId) {
  const der = (pem: string): Buffer => new X509Certificate(pem).raw;
  return toTrustMaterial(
    {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      ctlogs: [],
      certificateAuthorities: [],
      timestampAuthorities: withTsa ? [{ certChain: { certificates: [{ rawBytes: der(await readFile(tsa.tsaCertPath, 'utf8')) }, { rawBytes: der(tsa.caPem) }] }, uri: '', subject: undefined, validFor: undefined }] : [],
    } as never,
    { [keyId]: { rawBytes: createPublicKey(keyPem).export({ type: 'spki', format: 'der' }), keyDetails: 0, validFor: undefined } } as never,
  );
}

beforeAll(async () => {
  work = await scratch('stella-sigstore-');
  tsa = await startTestTsa();
  url = await tsa.listen();
});
afterAll(async () => {
  await tsa.close();
  await work.cleanup();
});

describe('Sigstore bundle', () => {
  it('@sigstore/verify verifies the bundle with only the public key, and its RFC 3161 timestamp with the TSA chain', async () => {
    const dir = join(work.dir, 'stamped');
    const built = await buildEvidenceBundle(options(dir, { timestamper: createHttpTimestamper(url) }));
    const json = JSON.parse(await readFile(join(dir, 'manifest.sigstore.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE, verificationMaterial: { publicKey: { hint: pair.keyId }, tlogEntries: [] } });
    const bundle = bundleFromJSON(json);
    // The envelope in the Sigstore bundle is the one beside it, and its payload is manifest.json.
    const envelope = JSON.parse(await readFile(join(dir, 'manifest.dsse.json'), 'utf8')) as { payload: string; signatures: { sig: string }[] };
    expect((json as { dsseEnvelope: unknown }).dsseEnvelope).toEqual({ ...envelope, signatures: envelope.signatures });
    expect(Buffer.from(envelope.payload, 'base64').equals(await readFile(join(dir, 'manifest.json')))).toBe(true);

    const signer = new Verifier(await trustMaterial(true), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }).verify(toSignedEntity(bundle));
    expect((signer.key as KeyObject).export({ type: 'spki', format: 'pem' })).toBe(pair.publicKeyPem);
    // Without the TSA in the trust material its timestamp cannot be verified, and Sigstore says so.
    await expect(trustMaterial(false).then((t) => new Verifier(t, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }).verify(toSignedEntity(bundle)))).rejects.toThrow(/timestamp/i);
    // Another key under the same hint: refused.
    const other = generateSigningKeyPair();
    await expect(trustMaterial(true, other.publicKeyPem).then((t) => new Verifier(t, { tlogThreshold: 0, ctlogThreshold: 0 }).verify(toSignedEntity(bundle)))).rejects.toThrow(/signature/i);
    expect(built.timestamp).toBeDefined();

    // The same bytes by hand: openssl checks manifest.sig over manifest.json and the token over the DSSE signature.
    await writeFile(join(work.dir, 'pub.pem'), pair.publicKeyPem);
    await writeFile(join(work.dir, 'sig.der'), Buffer.from(await readFile(join(dir, 'manifest.sig'), 'ascii'), 'base64'));
    const dgst = await run('openssl', ['dgst', '-sha256', '-verify', join(work.dir, 'pub.pem'), '-signature', join(work.dir, 'sig.der'), join(dir, 'manifest.json')]);
    expect(dgst.stdout.trim()).toBe('Verified OK');
    const token = (json as { verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] } } }).verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]!.signedTimestamp;
    await writeFile(join(work.dir, 'dsse.sig'), Buffer.from(envelope.signatures[0]!.sig, 'base64'));
    await writeFile(join(work.dir, 'sig.tsr'), Buffer.from(token, 'base64'));
    const ts = await run('openssl', ['ts', '-verify', '-data', join(work.dir, 'dsse.sig'), '-in', join(work.dir, 'sig.tsr'), '-CAfile', tsa.caPath, '-untrusted', tsa.tsaCertPath]);
    expect(ts.stdout).toContain('Verification: OK');
  });

  it('verifies a bundle without a TSA (no timestamps, threshold 0) and refuses a changed payload', async () => {
    const dir = join(work.dir, 'plain');
    await buildEvidenceBundle(options(dir));
    const json = JSON.parse(await readFile(join(dir, 'manifest.sigstore.json'), 'utf8')) as { dsseEnvelope: { payload: string }; verificationMaterial: Record<string, unknown> };
    expect(json.verificationMaterial.timestampVerificationData).toBeUndefined();
    const verifier = new Verifier(await trustMaterial(false), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    expect(() => verifier.verify(toSignedEntity(bundleFromJSON(json)))).not.toThrow();
    const forged = { ...json, dsseEnvelope: { ...json.dsseEnvelope, payload: Buffer.from('{"forged":true}').toString('base64') } };
    expect(() => verifier.verify(toSignedEntity(bundleFromJSON(forged)))).toThrow(/signature/i);
  });

  it('stores timestamps in one canonical form: the TSA signature low-S, no unsigned certificates or attributes', async () => {
    const data = Buffer.from('a DSSE signature');
    const raw = await tsa.stamp(data);
    const canonical = canonicalTimestampResponse(raw);
    expect(canonicalTimestampResponse(canonical).equals(canonical)).toBe(true);
    expect(canonical.length).toBeLessThan(raw.length);
    expect(await verifyCanonicalTimestamp(canonical, { data, trustAnchors: [tsa.caPem] })).toMatchObject({ ok: true, trusted: true, tsa: 'CN=StellaOps Test TSA' });
    expect((await verifyCanonicalTimestamp(raw, { data })).failures.map((f) => f.code)).toEqual(['timestamp_noncanonical']);
    // The mirror-image TSA signature (s → n−s) still verifies under plain ECDSA; it is refused.
    const { r, s } = parseEcdsaSignature(signatureOf(canonical));
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const mirrored = withSignature(canonical, encodeEcdsaSignature(r, n - s));
    expect((await verifyCanonicalTimestamp(mirrored, { data })).failures.map((f) => f.code)).toEqual(['timestamp_noncanonical']);
    expect(canonicalTimestampResponse(mirrored).equals(canonical)).toBe(true);
  });
});

/** The path to the TSA's signature in a TimeStampResp: resp → ContentInfo → [0] → SignedData → signerInfos → SignerInfo. */
function signerInfoParts(der: Buffer) {
  const [status, contentInfo] = children(parseDer(der));
  const [type, content] = children(contentInfo!);
  const signedData = children(children(content!)[0]!);
  const signerInfo = children(children(signedData.at(-1)!)[0]!);
  return { status: status!, type: type!, signedData, signerInfo };
}

function signatureOf(der: Buffer): Buffer {
  return signerInfoParts(der).signerInfo.at(-1)!.content;
}

function withSignature(der: Buffer, signature: Buffer): Buffer {
  const p = signerInfoParts(der);
  const signerInfo = tlv(0x30, ...p.signerInfo.slice(0, -1).map((t) => t.raw), tlv(0x04, signature));
  const signedData = tlv(0x30, ...p.signedData.slice(0, -1).map((t) => t.raw), tlv(0x31, signerInfo));
  return tlv(0x30, p.status.raw, tlv(0x30, p.type.raw, tlv(0xa0, signedData)));
}
