import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Keyring,
  buildEvidenceBundle,
  createKeySigner,
  fileInclusionProof,
  generateSigningKeyPair,
  loadPublicKey,
  verifyBundle,
  verifyBundleStream,
  verifyFileInclusion,
  type BuildEvidenceBundleOptions,
  type BundleVerification,
  type VerificationFailureCode,
} from '../src/index.js';
import { SMALL_FILES, scratch } from './helpers/fixture.js';
import { writeLegacyBundle } from './helpers/legacy-bundle.js';
import { startTestTsa, type TestTsa } from './helpers/openssl-tsa.js';

const run = promisify(execFile);
const CREATED_AT = '2025-03-01T12:00:00.000Z';

const ecdsa = generateSigningKeyPair('ecdsa-p256-sha256');
const ed25519 = generateSigningKeyPair('ed25519');
const signer = createKeySigner(ecdsa.privateKeyPem);
// Parsed once: the tamper loops verify thousands of times.
const ecdsaKey = loadPublicKey(ecdsa.publicKeyPem);

let work: { dir: string; cleanup: () => Promise<void> };
let tsa: TestTsa;

function options(output: BuildEvidenceBundleOptions['output'], extra: Partial<BuildEvidenceBundleOptions> = {}): BuildEvidenceBundleOptions {
  return {
    kind: 'evaluation',
    tenant: 'tenant-a',
    caseId: 'case-42',
    resourceId: 'eval-7',
    createdAt: CREATED_AT,
    signer,
    files: Object.entries(SMALL_FILES).map(([path, source]) => ({ path, source })),
    output,
    ...extra,
  };
}

const codes = (v: BundleVerification): VerificationFailureCode[] => v.failures.map((f) => f.code);
const verifyBytes = (tar: Buffer, opts: Parameters<typeof verifyBundleStream>[1]): Promise<BundleVerification> =>
  verifyBundleStream([tar], opts);

/** Byte ranges of each tar entry: header, content, padding. */
function tarLayout(tar: Buffer): { name: string; header: number; content: number; size: number; end: number }[] {
  const out = [];
  let off = 0;
  while (off + 512 <= tar.length && !tar.subarray(off, off + 512).every((b) => b === 0)) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('ascii'), 8);
    const end = off + 512 + Math.ceil(size / 512) * 512;
    out.push({ name, header: off, content: off + 512, size, end });
    off = end;
  }
  return out;
}

/** Which failure codes a flipped byte in a given region must produce. */
function expectedFor(region: string): VerificationFailureCode[] {
  if (region === 'header' || region === 'padding' || region === 'end') return ['archive_malformed', 'archive_noncanonical'];
  if (region.startsWith('files/')) return ['digest_mismatch'];
  if (region === 'manifest.json') return ['signature_invalid', 'envelope_payload_mismatch', 'manifest_invalid'];
  if (region === 'manifest.sig') return ['signature_invalid', 'signature_malformed', 'signature_high_s', 'signature_noncanonical'];
  if (region === 'manifest.dsse.json') return ['envelope_invalid', 'signature_invalid', 'signature_malformed', 'envelope_payload_mismatch', 'payload_type_mismatch'];
  if (region === 'manifest.sigstore.json') return ['sigstore_bundle_invalid'];
  if (region === 'root.merkle') return ['merkle_root_mismatch'];
  if (region === 'timestamp.tsr') return ['digest_mismatch'];
  throw new Error(`no expectation for ${region}`);
}

function regionOf(layout: ReturnType<typeof tarLayout>, offset: number): string {
  for (const e of layout) {
    if (offset < e.header + 512 && offset >= e.header) return 'header';
    if (offset >= e.content && offset < e.content + e.size) return e.name;
    if (offset >= e.content + e.size && offset < e.end) return 'padding';
  }
  return 'end';
}

beforeAll(async () => {
  work = await scratch();
  tsa = await startTestTsa();
});
afterAll(async () => {
  await tsa.close();
  await work.cleanup();
});

describe('evidence bundle: build and verify', () => {
  it('verifies untouched tar and directory bundles, for ECDSA and Ed25519 signers', async () => {
    for (const pair of [ecdsa, ed25519]) {
      const s = createKeySigner(pair.privateKeyPem);
      const tarPath = join(work.dir, `ok-${pair.algorithm}.tar`);
      const dirPath = join(work.dir, `ok-${pair.algorithm}`);
      const built = await buildEvidenceBundle(options({ tarFile: tarPath }, { signer: s }));
      await buildEvidenceBundle(options({ directory: dirPath }, { signer: s }));
      for (const location of [tarPath, dirPath]) {
        const v = await verifyBundle(location, { publicKey: pair.publicKeyPem });
        expect(v.failures).toEqual([]);
        expect(v.ok).toBe(true);
        expect(v.root).toBe(built.root);
        expect(v.signer).toEqual({ keyId: pair.keyId, algorithm: pair.algorithm });
        expect(v.fileCount).toBe(4);
      }
      expect(built.manifest.files.map((f) => f.path)).toEqual(['empty.txt', 'one.bin', 'sbom/cyclonedx.json', 'trace/decision.json']);
    }
  });

  it('is deterministic: the same input gives byte-identical tars, from paths, buffers or streams', async () => {
    const src = join(work.dir, 'src');
    for (const [p, b] of Object.entries(SMALL_FILES)) {
      await mkdir(join(src, p, '..'), { recursive: true });
      await writeFile(join(src, p), b);
    }
    const a = join(work.dir, 'det-a.tar');
    const b = join(work.dir, 'det-b.tar');
    const c = join(work.dir, 'det-c.tar');
    await buildEvidenceBundle(options({ tarFile: a }));
    await buildEvidenceBundle(options({ tarFile: b }, { files: Object.keys(SMALL_FILES).reverse().map((p) => ({ path: p, source: join(src, p) })) }));
    await buildEvidenceBundle(
      options({ tarFile: c }, { files: Object.entries(SMALL_FILES).map(([path, buf]) => ({ path, source: () => Readable.from([buf]), size: buf.length })) }),
    );
    const [ta, tb, tc] = await Promise.all([readFile(a), readFile(b), readFile(c)]);
    expect(ta.equals(tb)).toBe(true);
    expect(ta.equals(tc)).toBe(true);
    const ed = createKeySigner(ed25519.privateKeyPem);
    const d1 = join(work.dir, 'det-ed-1.tar');
    const d2 = join(work.dir, 'det-ed-2.tar');
    await buildEvidenceBundle(options({ tarFile: d1 }, { signer: ed }));
    await buildEvidenceBundle(options({ tarFile: d2 }, { signer: ed }));
    expect((await readFile(d1)).equals(await readFile(d2))).toBe(true);
  });
});

describe('evidence bundle: the first format (v1)', () => {
  it('still verifies bundles written the v1 way (generated here), as tar and directory, with their root timestamp', async () => {
    const legacy = { files: SMALL_FILES, signer, createdAt: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString(), metadata: { engineVersion: 'x', '10': 1, '9': 2 }, timestamper: (d: Uint8Array) => tsa.stamp(d) };
    const tarPath = join(work.dir, 'legacy.tar');
    const dirPath = join(work.dir, 'legacy');
    await writeLegacyBundle(legacy, { tarFile: tarPath });
    await writeLegacyBundle(legacy, { directory: dirPath });
    for (const location of [tarPath, dirPath]) {
      const v = await verifyBundle(location, { publicKey: ecdsaKey, tsaTrustAnchors: [tsa.caPem], requireTimestamp: true });
      expect(v.failures).toEqual([]);
      expect(v).toMatchObject({ ok: true, format: 'stellaops.evidence/v1', timestamp: { covers: 'root', trusted: true } });
      // A root timestamp shows when the files existed; the signature came after it, so the signing time stays asserted.
      expect(v.signingTime?.source).toBe('asserted');
    }
    // Its manifest is held to the v1 form, byte for byte.
    const manifest = await readFile(join(dirPath, 'manifest.json'), 'utf8');
    await writeFile(join(dirPath, 'manifest.json'), JSON.stringify(JSON.parse(manifest)));
    expect(codes(await verifyBundle(dirPath, { publicKey: ecdsaKey }))).toContain('manifest_invalid');
  });
});

describe('evidence bundle: tamper suite', () => {
  it('detects every single-byte flip of every file in a tar bundle (and sampled header/padding bytes), with the reason', async () => {
    const path = join(work.dir, 'flip.tar');
    await buildEvidenceBundle(options({ tarFile: path }));
    const tar = await readFile(path);
    const layout = tarLayout(tar);
    expect(layout.map((e) => e.name)).toEqual([
      'files/empty.txt',
      'files/one.bin',
      'files/sbom/cyclonedx.json',
      'files/trace/decision.json',
      'manifest.dsse.json',
      'manifest.json',
      'manifest.sig',
      'manifest.sigstore.json',
      'root.merkle',
    ]);
    expect((await verifyBytes(tar, { publicKey: ecdsaKey })).ok).toBe(true);
    const misses: string[] = [];
    for (let off = 0; off < tar.length; off++) {
      const region = regionOf(layout, off);
      // Tar framing bytes are sampled (each costs a full verification); file bytes are all flipped.
      if ((region === 'header' || region === 'padding' || region === 'end') && off % 11 !== 0) continue;
      const copy = Buffer.from(tar);
      copy[off]! ^= 0x01;
      const v = await verifyBytes(copy, { publicKey: ecdsaKey });
      const expected = expectedFor(region);
      if (v.ok || !codes(v).some((c) => expected.includes(c))) misses.push(`${off} (${region}): ${codes(v).join(',') || 'ok'}`);
      if (region.startsWith('files/') && !v.failures.some((f) => f.code === 'digest_mismatch' && f.path === region)) {
        misses.push(`${off}: digest mismatch not attributed to ${region}`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('detects single-byte flips in every file of a directory bundle', async () => {
    const dir = join(work.dir, 'flip-dir');
    await buildEvidenceBundle(options({ directory: dir }));
    const names = ['files/one.bin', 'files/sbom/cyclonedx.json', 'files/trace/decision.json', 'manifest.json', 'manifest.sig', 'manifest.dsse.json', 'manifest.sigstore.json', 'root.merkle'];
    const misses: string[] = [];
    for (const name of names) {
      const abs = join(dir, name);
      const original = await readFile(abs);
      // The tar test above flips every byte of these same files through the same checks; here
      // ~24 spread positions per file (first and last included) prove the directory reader
      // delivers them, at a cost the disk can bear.
      const step = Math.max(1, Math.floor(original.length / 23));
      const offsets = new Set([...Array.from({ length: Math.ceil(original.length / step) }, (_, i) => i * step), original.length - 1]);
      for (const off of offsets) {
        const copy = Buffer.from(original);
        copy[off]! ^= 0x01;
        await writeFile(abs, copy);
        const v = await verifyBundle(dir, { publicKey: ecdsaKey });
        if (v.ok || !codes(v).some((c) => expectedFor(name).includes(c))) misses.push(`${name}@${off}: ${codes(v).join(',') || 'ok'}`);
      }
      await writeFile(abs, original);
    }
    expect(misses).toEqual([]);
    expect((await verifyBundle(dir, { publicKey: ecdsaKey })).ok).toBe(true);
  });

  it('names a deleted file, an added file and a stray top-level entry', async () => {
    const dir = join(work.dir, 'del-add');
    await buildEvidenceBundle(options({ directory: dir }));
    const cases: [string, (root: string) => Promise<void>, VerificationFailureCode, string][] = [
      ['delete content', (r) => unlink(join(r, 'files/one.bin')), 'file_missing', 'files/one.bin'],
      ['add content', (r) => writeFile(join(r, 'files/extra.txt'), 'x'), 'file_unexpected', 'files/extra.txt'],
      ['stray entry', (r) => writeFile(join(r, 'README'), 'x'), 'file_unexpected', 'README'],
      ['delete root', (r) => unlink(join(r, 'root.merkle')), 'merkle_root_missing', 'root.merkle'],
      ['delete envelope', (r) => unlink(join(r, 'manifest.dsse.json')), 'envelope_missing', 'manifest.dsse.json'],
      ['delete signature', (r) => unlink(join(r, 'manifest.sig')), 'signature_missing', 'manifest.sig'],
      ['delete manifest', (r) => unlink(join(r, 'manifest.json')), 'manifest_missing', 'manifest.json'],
    ];
    for (const [label, tamper, code, path] of cases) {
      const copy = join(work.dir, `del-add-${label.replace(/ /g, '-')}`);
      await cp(dir, copy, { recursive: true });
      await tamper(copy);
      const v = await verifyBundle(copy, { publicKey: ecdsaKey });
      expect(v.ok, label).toBe(false);
      expect(v.failures.some((f) => f.code === code && f.path === path), `${label}: ${JSON.stringify(v.failures)}`).toBe(true);
      if (label === 'delete content' || label === 'add content') expect(codes(v)).toContain('merkle_root_mismatch');
    }
  });

  it('detects swapped contents, reordered and repeated tar entries, and truncation at every block', async () => {
    const path = join(work.dir, 'order.tar');
    await buildEvidenceBundle(options({ tarFile: path }));
    const tar = await readFile(path);
    const layout = tarLayout(tar);
    const [a, b] = [layout[2]!, layout[3]!];
    // Swap two whole entries: content and paths intact, order wrong.
    const swapped = Buffer.concat([tar.subarray(0, a.header), tar.subarray(b.header, b.end), tar.subarray(a.header, a.end), tar.subarray(b.end)]);
    expect(codes(await verifyBytes(swapped, { publicKey: ecdsaKey }))).toContain('archive_noncanonical');
    // Repeat an entry.
    const repeated = Buffer.concat([tar.subarray(0, b.end), tar.subarray(b.header, b.end), tar.subarray(b.end)]);
    expect(codes(await verifyBytes(repeated, { publicKey: ecdsaKey }))).toContain('entry_duplicate');
    // Swap the contents of two same-named directory files: digests at both paths.
    const dir = join(work.dir, 'swap-dir');
    await buildEvidenceBundle(options({ directory: dir, }, { files: [{ path: 'a.txt', source: Buffer.from('AAAA') }, { path: 'b.txt', source: Buffer.from('BBBB') }] }));
    await writeFile(join(dir, 'files/a.txt'), 'BBBB');
    await writeFile(join(dir, 'files/b.txt'), 'AAAA');
    const sv = await verifyBundle(dir, { publicKey: ecdsaKey });
    expect(sv.failures.filter((f) => f.code === 'digest_mismatch').map((f) => f.path)).toEqual(['files/a.txt', 'files/b.txt']);
    // Truncation at every 512-byte boundary and one byte short of the end.
    for (let len = 0; len < tar.length; len += 512) {
      const v = await verifyBytes(tar.subarray(0, len), { publicKey: ecdsaKey });
      expect(v.ok, `truncated to ${len}`).toBe(false);
    }
    const short = await verifyBytes(tar.subarray(0, tar.length - 1), { publicKey: ecdsaKey });
    expect(short.ok).toBe(false);
    expect(codes(short).some((c) => c === 'archive_malformed' || c === 'archive_noncanonical')).toBe(true);
    // Trailing garbage after the end marker.
    const trailing = await verifyBytes(Buffer.concat([tar, Buffer.from('x')]), { publicKey: ecdsaKey });
    expect(codes(trailing)).toContain('archive_noncanonical');
  });

  it('rejects swapped signatures, the wrong key, a re-signed manifest and a timestamp-only bundle', async () => {
    const one = join(work.dir, 'sig-one');
    const two = join(work.dir, 'sig-two');
    await buildEvidenceBundle(options({ directory: one }));
    await buildEvidenceBundle(options({ directory: two }, { caseId: 'case-43' }));
    const swapSig = join(work.dir, 'sig-swap');
    await cp(one, swapSig, { recursive: true });
    await cp(join(two, 'manifest.sig'), join(swapSig, 'manifest.sig'));
    expect(codes(await verifyBundle(swapSig, { publicKey: ecdsaKey }))).toEqual(['signature_invalid']);
    const swapEnv = join(work.dir, 'env-swap');
    await cp(one, swapEnv, { recursive: true });
    await cp(join(two, 'manifest.dsse.json'), join(swapEnv, 'manifest.dsse.json'));
    expect(codes(await verifyBundle(swapEnv, { publicKey: ecdsaKey }))).toContain('envelope_payload_mismatch');

    const other = generateSigningKeyPair();
    const wrong = await verifyBundle(one, { publicKey: other.publicKeyPem });
    expect(codes(wrong)).toContain('key_mismatch');
    expect(wrong.ok).toBe(false);

    // An attacker edits a file and re-signs everything with their own key: the trusted key rejects it.
    const forged = join(work.dir, 'forged');
    await buildEvidenceBundle(options({ directory: forged }, { signer: createKeySigner(other.privateKeyPem), files: [{ path: 'one.bin', source: Buffer.from('forged') }] }));
    expect(codes(await verifyBundle(forged, { publicKey: ecdsaKey }))).toContain('key_mismatch');

    // A timestamp alone never makes a bundle valid.
    const stamped = join(work.dir, 'ts-only');
    await buildEvidenceBundle(options({ directory: stamped }, { timestamper: (d) => tsa.stamp(d) }));
    expect((await verifyBundle(stamped, { publicKey: ecdsaKey, tsaTrustAnchors: [tsa.caPem] })).ok).toBe(true);
    await unlink(join(stamped, 'manifest.sig'));
    await unlink(join(stamped, 'manifest.dsse.json'));
    const tsOnly = await verifyBundle(stamped, { publicKey: ecdsaKey, tsaTrustAnchors: [tsa.caPem] });
    expect(tsOnly.ok).toBe(false);
    expect(codes(tsOnly)).toEqual(expect.arrayContaining(['signature_missing', 'envelope_missing']));
  });

  it('rejects a key that was revoked or used outside its validity window', async () => {
    const ring = await Keyring.create({ signer, at: '2025-01-01T00:00:00.000Z' });
    const dir = join(work.dir, 'ring');
    await buildEvidenceBundle(options({ directory: dir }));
    expect((await verifyBundle(dir, { keyring: ring })).ok).toBe(true);

    const next = generateSigningKeyPair();
    const rotated = Keyring.fromJSON(JSON.stringify(ring.toJSON()));
    await rotated.rotate(next.publicKeyPem, { signer, at: '2025-02-01T00:00:00.000Z' });
    // Signed on 2025-03-01 by a key retired on 2025-02-01.
    const late = await verifyBundle(dir, { keyring: rotated });
    expect(codes(late)).toEqual(['key_outside_validity']);
    // Signed before the key's window opened.
    const early = await Keyring.create({ signer, at: '2025-01-01T00:00:00.000Z', notBefore: '2025-06-01T00:00:00.000Z' });
    expect(codes(await verifyBundle(dir, { keyring: early }))).toEqual(['key_outside_validity']);

    const revoked = Keyring.fromJSON(ring.toJSON());
    await revoked.add(next.publicKeyPem, { signer, at: '2025-04-01T00:00:00.000Z' });
    await revoked.revoke(signer.keyId, { signer: createKeySigner(next.privateKeyPem), at: '2025-04-02T00:00:00.000Z', reason: 'key compromise' });
    const v = await verifyBundle(dir, { keyring: Keyring.fromJSON(JSON.stringify(revoked.toJSON())) });
    expect(codes(v)).toEqual(['key_revoked']);
    const unknown = await Keyring.create({ signer: createKeySigner(next.privateKeyPem), at: '2025-01-01T00:00:00.000Z' });
    expect(codes(await verifyBundle(dir, { keyring: unknown }))).toEqual(['key_unknown']);
  });

  it('detects flips in a stored timestamp and a signing time claimed after the TSA saw the signature', async () => {
    const path = join(work.dir, 'ts.tar');
    await buildEvidenceBundle(options({ tarFile: path }, { createdAt: new Date(Date.now() - 60_000), timestamper: (d) => tsa.stamp(d) }));
    const tar = await readFile(path);
    const opts = { publicKey: ecdsaKey, tsaTrustAnchors: [tsa.caPem] };
    const good = await verifyBytes(tar, opts);
    expect(good.failures).toEqual([]);
    expect(good.timestamp).toMatchObject({ trusted: true, covers: 'signature', tsa: 'CN=StellaOps Test TSA' });
    expect(good.signingTime).toMatchObject({ source: 'tsa', tsa: 'CN=StellaOps Test TSA', time: good.timestamp!.genTime });
    const entry = tarLayout(tar).find((e) => e.name === 'manifest.sigstore.json')!;
    // The token lives base64-encoded in the Sigstore bundle: a flip anywhere in it is caught.
    const misses: string[] = [];
    for (let off = entry.content; off < entry.content + entry.size; off += 3) {
      const copy = Buffer.from(tar);
      copy[off]! ^= 0x01;
      const v = await verifyBytes(copy, opts);
      if (v.ok || !v.failures.some((f) => f.path === 'manifest.sigstore.json')) misses.push(`${off - entry.content}: ${codes(v).join(',') || 'ok'}`);
    }
    expect(misses).toEqual([]);
    // Untrusted anchor.
    const other = await startTestTsa({ name: 'Other TSA' });
    try {
      expect(codes(await verifyBytes(tar, { ...opts, tsaTrustAnchors: [other.caPem] }))).toEqual(['timestamp_untrusted']);
    } finally {
      await other.close();
    }
    // Required but absent.
    const plain = join(work.dir, 'plain.tar');
    await buildEvidenceBundle(options({ tarFile: plain }));
    expect(codes(await verifyBundle(plain, { ...opts, requireTimestamp: true }))).toEqual(['timestamp_missing']);
    const asserted = await verifyBundle(plain, opts);
    expect(asserted.signingTime).toEqual({ source: 'asserted', time: CREATED_AT, asserted: CREATED_AT });
    // A manifest claiming a creation time a day after the TSA saw its signature.
    const future = join(work.dir, 'future');
    await buildEvidenceBundle(options({ directory: future }, { createdAt: new Date(Date.now() + 86_400_000), timestamper: (d) => tsa.stamp(d) }));
    expect(codes(await verifyBundle(future, opts))).toEqual(['timestamp_time_inconsistent']);
  });
});

describe('evidence bundle: third-party verification', () => {
  it('openssl verifies manifest.sig (ECDSA: dgst; Ed25519: pkeyutl) and the timestamp; GNU tar extracts a bundle that still verifies', async () => {
    const dir = join(work.dir, 'third');
    const tarPath = join(work.dir, 'third.tar');
    await buildEvidenceBundle(options({ directory: dir }, { timestamper: (d) => tsa.stamp(d), createdAt: new Date(Date.now() - 60_000) }));
    await writeFile(join(work.dir, 'pub.pem'), ecdsa.publicKeyPem);
    await writeFile(join(work.dir, 'sig.der'), Buffer.from(await readFile(join(dir, 'manifest.sig'), 'ascii'), 'base64'));
    const dgst = await run('openssl', ['dgst', '-sha256', '-verify', join(work.dir, 'pub.pem'), '-signature', join(work.dir, 'sig.der'), join(dir, 'manifest.json')]);
    expect(dgst.stdout.trim()).toBe('Verified OK');
    // The timestamp covers the DSSE signature; it travels in the Sigstore bundle.
    const sigstore = JSON.parse(await readFile(join(dir, 'manifest.sigstore.json'), 'utf8'));
    await writeFile(join(work.dir, 'dsse.sig'), Buffer.from(JSON.parse(await readFile(join(dir, 'manifest.dsse.json'), 'utf8')).signatures[0].sig, 'base64'));
    await writeFile(join(work.dir, 'sig.tsr'), Buffer.from(sigstore.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'base64'));
    const ts = await run('openssl', ['ts', '-verify', '-data', join(work.dir, 'dsse.sig'), '-in', join(work.dir, 'sig.tsr'), '-CAfile', tsa.caPath]);
    expect(ts.stdout).toContain('Verification: OK');
    // A tampered manifest fails openssl too.
    await writeFile(join(work.dir, 'manifest-tampered.json'), (await readFile(join(dir, 'manifest.json'), 'utf8')).replace('case-42', 'case-43'));
    await expect(
      run('openssl', ['dgst', '-sha256', '-verify', join(work.dir, 'pub.pem'), '-signature', join(work.dir, 'sig.der'), join(work.dir, 'manifest-tampered.json')]),
    ).rejects.toThrow();

    const edDir = join(work.dir, 'third-ed');
    await buildEvidenceBundle(options({ directory: edDir }, { signer: createKeySigner(ed25519.privateKeyPem) }));
    await writeFile(join(work.dir, 'ed.pem'), ed25519.publicKeyPem);
    await writeFile(join(work.dir, 'ed.sig'), Buffer.from(await readFile(join(edDir, 'manifest.sig'), 'ascii'), 'base64'));
    const pk = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(work.dir, 'ed.pem'), '-rawin', '-in', join(edDir, 'manifest.json'), '-sigfile', join(work.dir, 'ed.sig')]);
    expect(pk.stdout).toContain('Signature Verified Successfully');

    await buildEvidenceBundle(options({ tarFile: tarPath }));
    const listing = await run('tar', ['-tvf', tarPath]);
    expect(listing.stdout).toContain('files/sbom/cyclonedx.json');
    expect(listing.stdout).toMatch(/-rw-r--r-- 0\/0/);
    const extracted = join(work.dir, 'extracted');
    await mkdir(extracted);
    await run('tar', ['-xf', tarPath, '-C', extracted]);
    expect((await readdir(extracted)).sort()).toEqual(['files', 'manifest.dsse.json', 'manifest.json', 'manifest.sig', 'manifest.sigstore.json', 'root.merkle']);
    expect((await verifyBundle(extracted, { publicKey: ecdsa.publicKeyPem })).ok).toBe(true);
  });

  it('proves a single file is in the bundle without the others', async () => {
    const built = await buildEvidenceBundle(options({ tarStream: new (await import('node:stream')).PassThrough().resume() }));
    for (const f of built.manifest.files) {
      const proof = fileInclusionProof(built.manifest, f.path);
      expect(verifyFileInclusion(proof, built.root)).toBe(true);
      expect(verifyFileInclusion({ ...proof, file: { ...f, sha256: 'f'.repeat(64) } }, built.root)).toBe(false);
    }
  });

  it('refuses bad input with typed errors and leaves nothing half-written', async () => {
    const target = join(work.dir, 'bad.tar');
    await expect(buildEvidenceBundle(options({ tarFile: target }, { files: [{ path: '../escape', source: Buffer.from('x') }] }))).rejects.toMatchObject({ code: 'invalid_path' });
    await expect(buildEvidenceBundle(options({ tarFile: target }, { files: [{ path: 'a', source: Buffer.from('x') }, { path: 'a', source: Buffer.from('y') }] }))).rejects.toMatchObject({ code: 'duplicate_path' });
    await expect(buildEvidenceBundle(options({ tarFile: target }, { files: [{ path: 's', source: Readable.from([Buffer.from('x')]) }] }))).rejects.toMatchObject({ code: 'size_required' });
    await expect(buildEvidenceBundle(options({ tarFile: target }, { files: [{ path: 's', source: Readable.from([Buffer.from('xy')]), size: 1 }] }))).rejects.toMatchObject({ code: 'size_mismatch' });
    await expect(buildEvidenceBundle(options({ tarFile: target }, { files: [{ path: 'm', source: join(work.dir, 'does-not-exist') }] }))).rejects.toMatchObject({ code: 'io_error' });
    await expect(buildEvidenceBundle(options({ tarFile: target }, { kind: 'nope' as never }))).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await readdir(work.dir)).filter((n) => n.startsWith('bad.tar'))).toEqual([]);
    await buildEvidenceBundle(options({ tarFile: target }));
    await expect(buildEvidenceBundle(options({ tarFile: target }))).rejects.toMatchObject({ code: 'io_error' });
    await expect(verifyBundle(join(work.dir, 'missing'), { publicKey: ecdsa.publicKeyPem })).rejects.toMatchObject({ code: 'io_error' });
    await rm(target);
  });
});
