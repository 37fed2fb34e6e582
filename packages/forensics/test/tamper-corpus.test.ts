/**
 * The tamper corpus, generated at test time: every way of changing a real bundle that an auditor
 * tried (and more), applied to each form the verifier accepts — the `.tar`, the `.tar.gz` and the
 * unpacked directory — and to bundles of the first format. Every tampered variant must fail, and
 * name the file and the reason; every untampered copy must pass.
 */
import { execFile } from 'node:child_process';
import { cp, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Keyring,
  P256_ORDER,
  buildEvidenceBundle,
  createHttpTimestamper,
  createKeySigner,
  encodeEcdsaSignature,
  generateSigningKeyPair,
  loadPublicKey,
  parseEcdsaSignature,
  tarHeader,
  tarPadding,
  TAR_BLOCK,
  verifyBundle,
  type BundleVerification,
  type Signer,
  type VerificationFailureCode,
  type VerifyBundleOptions,
} from '../src/index.js';
import { SMALL_FILES, bytes, scratch } from './helpers/fixture.js';
import { legacyBundleEntries } from './helpers/legacy-bundle.js';
import { startTestTsa, type TestTsa } from './helpers/openssl-tsa.js';

const run = promisify(execFile);

/** One entry of a bundle as the corpus models it; materialized as a tar, a .tar.gz or a directory. */
interface Entry {
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'device';
  bytes?: Buffer;
  /** symlink / hardlink target (tar: link name; directory: a path relative to the bundle). */
  target?: string;
  /** directory form: the file gets a second name outside the bundle. */
  linkedOutside?: boolean;
}
type Form = 'tar' | 'tar.gz' | 'dir';
const FORMS: readonly Form[] = ['tar', 'tar.gz', 'dir'];

interface Variant {
  readonly label: string;
  readonly entries: Entry[];
  /** Any of these codes, on a failure that names `path` (as its path or in its message). */
  readonly codes: readonly VerificationFailureCode[];
  readonly path: string;
  readonly forms?: readonly Form[];
  readonly options?: VerifyBundleOptions;
}

const pair = generateSigningKeyPair('ecdsa-p256-sha256');
const signer = createKeySigner(pair.privateKeyPem);
const publicKey = loadPublicKey(pair.publicKeyPem);

let work: { dir: string; cleanup: () => Promise<void> };
let tsa: TestTsa;
let tsaUrl: string;
let createdAt: string;
/** v2 bundle (TSA-stamped) and v1 bundle, as entries. */
let v2: Entry[];
let v2plain: Entry[];
let v1: Entry[];
let v1stamped: Entry[];
let seq = 0;

const FILES: Record<string, Buffer> = { ...SMALL_FILES, 'policies/baseline.rego': bytes(1500, 11) };

function mtimeOf(entries: readonly Entry[]): number {
  const manifest = entries.find((e) => e.path === 'manifest.json')!.bytes!;
  try {
    return Math.floor(new Date((JSON.parse(manifest.toString('utf8')) as { createdAt: string }).createdAt).getTime() / 1000);
  } catch {
    return Math.floor(new Date(createdAt).getTime() / 1000);
  }
}

/** A tar header of any type (the library's writer only makes regular files). */
function rawHeader(path: string, size: number, mtime: number, type: string, linkname = ''): Buffer {
  const h = tarHeader(path, size, mtime);
  h.write(type, 156, 'ascii');
  h.fill(0, 157, 257);
  h.write(linkname, 157, 'utf8');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function toTar(entries: readonly Entry[]): Buffer {
  const mtime = mtimeOf(entries);
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.kind === 'file' ? e.bytes! : Buffer.alloc(0);
    const type = { file: '0', dir: '5', symlink: '2', hardlink: '1', fifo: '6', device: '3' }[e.kind];
    parts.push(e.kind === 'file' ? tarHeader(e.path, body.length, mtime) : rawHeader(e.path, 0, mtime, type, e.target), body, Buffer.alloc(tarPadding(body.length)));
  }
  parts.push(Buffer.alloc(TAR_BLOCK * 2));
  return Buffer.concat(parts);
}

/** gzip as the service writes it (header OS byte 3 whatever the platform). */
function gz(tar: Buffer, level = 6): Buffer {
  const out = gzipSync(tar, { level });
  out[8] = 0;
  out[9] = 3;
  return out;
}

async function materialize(entries: readonly Entry[], form: Form): Promise<string> {
  const base = join(work.dir, `v${seq++}`);
  if (form !== 'dir') {
    const tar = toTar(entries);
    await writeFile(base, form === 'tar' ? tar : gz(tar));
    return base;
  }
  await mkdir(base);
  for (const e of entries) {
    const abs = join(base, ...e.path.split('/').filter(Boolean));
    await mkdir(join(abs, '..'), { recursive: true });
    if (e.kind === 'file') {
      await writeFile(abs, e.bytes!);
      if (e.linkedOutside) await link(abs, `${base}.outside-${e.path.replace(/\//g, '_')}`);
    } else if (e.kind === 'dir') await mkdir(abs, { recursive: true });
    else if (e.kind === 'symlink') await symlink(e.target!, abs);
    else if (e.kind === 'hardlink') await link(join(base, e.target!), abs);
    else if (e.kind === 'fifo') await run('mkfifo', [abs]);
    else throw new Error('device files need root; not made in directory form');
  }
  return base;
}

async function check(variant: Variant, misses: string[]): Promise<number> {
  let n = 0;
  for (const form of variant.forms ?? FORMS) {
    const location = await materialize(variant.entries, form);
    const v = await verifyBundle(location, variant.options ?? { publicKey });
    n++;
    const hit = v.failures.some((f) => variant.codes.includes(f.code) && (f.path === variant.path || f.message.includes(variant.path)));
    if (v.ok || !hit) misses.push(`${form} ${variant.label}: ${v.ok ? 'VALID' : v.failures.map((f) => `${f.code}[${f.path ?? ''}]`).join(', ')}`);
  }
  return n;
}

function clone(entries: readonly Entry[]): Entry[] {
  return entries.map((e) => ({ ...e, ...(e.bytes ? { bytes: Buffer.from(e.bytes) } : {}) }));
}

function replace(entries: readonly Entry[], path: string, f: (b: Buffer) => Buffer): Entry[] {
  const out = clone(entries);
  const e = out.find((x) => x.path === path)!;
  e.bytes = f(e.bytes!);
  return out;
}

function fromEntries(list: [string, Buffer][]): Entry[] {
  return list.map(([path, b]) => ({ path, kind: 'file', bytes: b }));
}

async function entriesOf(build: (out: string) => Promise<unknown>): Promise<Entry[]> {
  const out = join(work.dir, `built-${seq++}.tar`);
  await build(out);
  const tar = await readFile(out);
  const list: [string, Buffer][] = [];
  for (let off = 0; off + 512 <= tar.length && tar[off] !== 0; ) {
    const name = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('ascii'), 8);
    list.push([name, tar.subarray(off + 512, off + 512 + size)]);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return fromEntries(list);
}

/** Which codes a byte flip in a given file must produce (with the file named). */
function flipCodes(path: string): VerificationFailureCode[] {
  if (path.startsWith('files/')) return ['digest_mismatch', 'size_mismatch'];
  if (path === 'manifest.json') return ['manifest_invalid', 'signature_invalid', 'envelope_payload_mismatch'];
  if (path === 'manifest.sig') return ['signature_noncanonical', 'signature_malformed', 'signature_high_s', 'signature_invalid'];
  if (path === 'manifest.dsse.json') return ['envelope_invalid', 'signature_invalid', 'signature_malformed', 'signature_high_s', 'envelope_payload_mismatch', 'payload_type_mismatch'];
  if (path === 'manifest.sigstore.json') return ['sigstore_bundle_invalid', 'timestamp_invalid', 'timestamp_noncanonical', 'timestamp_mismatch'];
  if (path === 'root.merkle') return ['merkle_root_mismatch'];
  if (path === 'timestamp.tsr') return ['digest_mismatch'];
  throw new Error(`no expectation for ${path}`);
}

/** ~10 spread positions, the first and the last byte included. */
function positions(length: number): number[] {
  const step = Math.max(1, Math.floor(length / 9));
  return [...new Set([...Array.from({ length: Math.ceil(length / step) }, (_, i) => i * step), length - 1])].filter((p) => p < length);
}

function highS(sigDer: Buffer): Buffer {
  const { r, s } = parseEcdsaSignature(sigDer);
  return encodeEcdsaSignature(r, P256_ORDER - s);
}

beforeAll(async () => {
  work = await scratch('stella-corpus-');
  tsa = await startTestTsa();
  tsaUrl = await tsa.listen();
  createdAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString();
  const common = { kind: 'evaluation' as const, tenant: 'tenant-a', caseId: 'case-42', resourceId: 'eval-7', signer, files: Object.entries(FILES).map(([path, source]) => ({ path, source })) };
  v2 = await entriesOf((out) => buildEvidenceBundle({ ...common, createdAt, timestamper: createHttpTimestamper(tsaUrl), output: { tarFile: out } }));
  v2plain = await entriesOf((out) => buildEvidenceBundle({ ...common, createdAt, output: { tarFile: out } }));
  v1 = fromEntries(await legacyBundleEntries({ files: FILES, signer, createdAt }));
  v1stamped = fromEntries(await legacyBundleEntries({ files: FILES, signer, createdAt, timestamper: (d) => tsa.stamp(d) }));
}, 60_000);
afterAll(async () => {
  await tsa?.close();
  await work?.cleanup();
});

describe('tamper corpus', () => {
  it('passes every untampered copy in every form (no false positives)', async () => {
    const trusted = { publicKey, tsaTrustAnchors: [tsa.caPem], requireTimestamp: true };
    const cases: [string, Entry[], VerifyBundleOptions][] = [
      ['v2 with TSA', v2, { publicKey }],
      ['v2 with TSA, timestamp required', v2, trusted],
      ['v2 without TSA', v2plain, { publicKey }],
      ['v1', v1, { publicKey }],
      ['v1 with root timestamp, timestamp required', v1stamped, trusted],
    ];
    const failures: string[] = [];
    for (const [label, entries, options] of cases) {
      for (const form of FORMS) {
        const v = await verifyBundle(await materialize(entries, form), options);
        if (!v.ok) failures.push(`${form} ${label}: ${v.failures.map((f) => f.code).join(',')}`);
        expect(v.container).toBe(form === 'dir' ? 'directory' : form);
      }
    }
    // Copies an auditor makes: cp -r of a directory, GNU tar extraction, gzip at other levels.
    const dir = await materialize(v2, 'dir');
    await cp(dir, `${dir}-copy`, { recursive: true });
    const tar = await materialize(v2, 'tar');
    await mkdir(`${tar}-x`);
    await run('tar', ['-xf', tar, '-C', `${tar}-x`]);
    await writeFile(`${tar}.9.gz`, gz(toTar(v2), 9));
    await writeFile(`${tar}.1.gz`, gz(toTar(v2), 1));
    for (const location of [`${dir}-copy`, `${tar}-x`, `${tar}.9.gz`, `${tar}.1.gz`]) {
      const v = await verifyBundle(location, trusted);
      if (!v.ok) failures.push(`${location}: ${v.failures.map((f) => f.code).join(',')}`);
    }
    expect(failures).toEqual([]);
  });

  it('catches byte flips in every file of v2 and v1 bundles, in all three forms, naming the file and the reason', async () => {
    const misses: string[] = [];
    let count = 0;
    for (const [label, bundle] of [['v2', v2], ['v1', v1stamped]] as const) {
      for (const entry of bundle) {
        if (entry.bytes!.length === 0) continue;
        for (const at of positions(entry.bytes!.length)) {
          for (const mask of [0x01, 0x80]) {
            count += await check(
              {
                label: `${label} ${entry.path}@${at}^${mask.toString(16)}`,
                entries: replace(bundle, entry.path, (b) => {
                  b[at]! ^= mask;
                  return b;
                }),
                codes: flipCodes(entry.path),
                path: entry.path,
              },
              misses,
            );
          }
        }
      }
    }
    expect(misses).toEqual([]);
    expect(count).toBeGreaterThan(800);
  }, 120_000);

  it('refuses any other encoding of a signature file: whitespace, line breaks, another base64 spelling, high-S, BER', async () => {
    const misses: string[] = [];
    const sig = v2.find((e) => e.path === 'manifest.sig')!.bytes!.toString('ascii');
    const der = Buffer.from(sig, 'base64');
    const wrapped = sig.replace(/(.{64})/g, '$1\n');
    const spellings: [string, string][] = [
      ['trailing newline', `${sig}\n`],
      ['trailing CRLF', `${sig}\r\n`],
      ['leading space', ` ${sig}`],
      ['trailing space', `${sig} `],
      ['tab inside', `${sig.slice(0, 10)}\t${sig.slice(10)}`],
      ['line-wrapped at 64', wrapped],
      ['unpadded', sig.replace(/=+$/, '')],
      ['URL-safe alphabet', Buffer.from(der).toString('base64url') + '='.repeat((4 - (Buffer.from(der).toString('base64url').length % 4)) % 4)],
      ['empty', ''],
    ];
    for (const [label, text] of spellings) {
      if (text === sig) continue;
      await check({ label: `manifest.sig ${label}`, entries: replace(v2, 'manifest.sig', () => Buffer.from(text, 'latin1')), codes: ['signature_noncanonical'], path: 'manifest.sig' }, misses);
    }
    await check({ label: 'manifest.sig high-S', entries: replace(v2, 'manifest.sig', () => Buffer.from(highS(der).toString('base64'))), codes: ['signature_high_s'], path: 'manifest.sig' }, misses);
    // Long-form DER length for a short SEQUENCE: BER, same (r, s).
    const ber = Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]);
    await check({ label: 'manifest.sig BER length', entries: replace(v2, 'manifest.sig', () => Buffer.from(ber.toString('base64'))), codes: ['signature_malformed'], path: 'manifest.sig' }, misses);

    // The same for the DSSE envelope and the Sigstore bundle: one byte sequence each.
    const envText = v2.find((e) => e.path === 'manifest.dsse.json')!.bytes!.toString('utf8');
    const env = JSON.parse(envText) as { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] };
    const dsseSig = Buffer.from(env.signatures[0]!.sig, 'base64');
    const envVariants: [string, string][] = [
      ['trailing newline', `${envText}\n`],
      ['pretty-printed', JSON.stringify(env, null, 2)],
      ['keys reordered', JSON.stringify({ signatures: env.signatures, payloadType: env.payloadType, payload: env.payload })],
      ['duplicate key', envText.replace('{"payload"', `{"payloadType":"text/plain","payload"`)],
      ['unpadded sig', JSON.stringify({ ...env, signatures: [{ keyid: env.signatures[0]!.keyid, sig: env.signatures[0]!.sig.replace(/=+$/, '') }] })],
      ['URL-safe payload', JSON.stringify({ ...env, payload: Buffer.from(env.payload, 'base64').toString('base64url') })],
      ['keyid emptied', JSON.stringify({ ...env, signatures: [{ keyid: '', sig: env.signatures[0]!.sig }] })],
      ['second signature', JSON.stringify({ ...env, signatures: [...env.signatures, env.signatures[0]] })],
      ['extra member', JSON.stringify({ ...env, note: 'x' })],
    ];
    for (const [label, text] of envVariants) {
      if (text === envText) continue; // a spelling that happens to be the same bytes is no change
      await check({ label: `manifest.dsse.json ${label}`, entries: replace(v2, 'manifest.dsse.json', () => Buffer.from(text)), codes: ['envelope_invalid'], path: 'manifest.dsse.json' }, misses);
    }
    await check(
      {
        label: 'manifest.dsse.json high-S',
        entries: replace(v2, 'manifest.dsse.json', () => Buffer.from(JSON.stringify({ ...env, signatures: [{ keyid: env.signatures[0]!.keyid, sig: highS(dsseSig).toString('base64') }] }))),
        codes: ['signature_high_s'],
        path: 'manifest.dsse.json',
      },
      misses,
    );
    const sigstoreText = v2.find((e) => e.path === 'manifest.sigstore.json')!.bytes!.toString('utf8');
    const sigstore = JSON.parse(sigstoreText) as Record<string, unknown>;
    for (const [label, text] of [
      ['trailing newline', `${sigstoreText}\n`],
      ['pretty-printed', JSON.stringify(sigstore, null, 2)],
      ['keys reordered', JSON.stringify(Object.fromEntries(Object.entries(sigstore).reverse()))],
      ['hint changed', sigstoreText.replace(pair.keyId, 'ab'.repeat(32))],
      ['tlog entry added', sigstoreText.replace('"tlogEntries":[]', '"tlogEntries":[{}]')],
      ['media type v0.2', sigstoreText.replace('bundle.v0.3+json', 'bundle.v0.2+json')],
    ] as const) {
      await check({ label: `manifest.sigstore.json ${label}`, entries: replace(v2, 'manifest.sigstore.json', () => Buffer.from(text)), codes: ['sigstore_bundle_invalid'], path: 'manifest.sigstore.json' }, misses);
    }
    // A TSA token with bytes the TSA did not sign: its certificate chain added (unsigned), or the status text.
    const token = Buffer.from((sigstore as { verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] } } }).verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]!.signedTimestamp, 'base64');
    const relaxed = Buffer.from(token);
    // Re-encode the outer length in long form (BER): same token, another encoding.
    const berToken = Buffer.concat([Buffer.from([0x30, 0x83, 0, relaxed[2]!, relaxed[3]!]), relaxed.subarray(4)]);
    await check(
      {
        label: 'timestamp token re-encoded',
        entries: replace(v2, 'manifest.sigstore.json', () => Buffer.from(sigstoreText.replace(token.toString('base64'), berToken.toString('base64')))),
        codes: ['timestamp_noncanonical', 'timestamp_invalid'],
        path: 'manifest.sigstore.json',
      },
      misses,
    );
    // The TSA's own answer, as it came: it carries the CA certificate too (unsigned bytes).
    const raw = await tsa.stamp(dsseSig);
    await check(
      {
        label: 'timestamp token with its unsigned certificate chain',
        entries: replace(v2, 'manifest.sigstore.json', () => Buffer.from(sigstoreText.replace(token.toString('base64'), raw.toString('base64')))),
        codes: ['timestamp_noncanonical'],
        path: 'manifest.sigstore.json',
      },
      misses,
    );
    expect(misses).toEqual([]);
  }, 60_000);

  it('refuses anything the manifest does not list: directories, links, special files, extra and duplicate entries, unsafe paths', async () => {
    const misses: string[] = [];
    const one = v2.find((e) => e.path === 'files/one.bin')!;
    const variants: Variant[] = [
      { label: 'empty directory under files/', entries: [...clone(v2), { path: 'files/empty/', kind: 'dir' }], codes: ['entry_directory'], path: 'files/empty/' },
      { label: 'nested empty directories', entries: [...clone(v2), { path: 'files/sbom/a/b/', kind: 'dir' }], codes: ['entry_directory'], path: 'files/sbom/a/b/' },
      { label: 'directory entry of a listed folder', entries: [{ path: 'files/sbom/', kind: 'dir' }, ...clone(v2)], codes: ['entry_directory'], path: 'files/sbom/', forms: ['tar', 'tar.gz'] },
      { label: 'empty directory at the top', entries: [...clone(v2), { path: 'extra/', kind: 'dir' }], codes: ['file_unexpected', 'entry_directory'], path: 'extra/' },
      { label: 'extra file', entries: [...clone(v2), { path: 'files/zz-extra.txt', kind: 'file', bytes: Buffer.from('x') }], codes: ['file_unexpected'], path: 'files/zz-extra.txt' },
      { label: 'extra empty file', entries: [...clone(v2), { path: 'files/zz-empty', kind: 'file', bytes: Buffer.alloc(0) }], codes: ['file_unexpected'], path: 'files/zz-empty' },
      { label: 'extra top-level file', entries: [...clone(v2), { path: 'README', kind: 'file', bytes: Buffer.from('x') }], codes: ['file_unexpected'], path: 'README' },
      { label: 'v1 timestamp file in a v2 bundle', entries: [...clone(v2), { path: 'timestamp.tsr', kind: 'file', bytes: Buffer.from('x') }], codes: ['file_unexpected'], path: 'timestamp.tsr' },
      { label: 'symlink added', entries: [...clone(v2), { path: 'files/zz-link', kind: 'symlink', target: 'one.bin' }], codes: ['entry_symlink'], path: 'files/zz-link' },
      { label: 'listed file replaced by a symlink', entries: [...clone(v2).filter((e) => e.path !== one.path), { path: one.path, kind: 'symlink', target: '../manifest.json' }], codes: ['entry_symlink'], path: 'files/one.bin' },
      { label: 'hard link added', entries: [...clone(v2), { path: 'files/zz-hard', kind: 'hardlink', target: 'files/one.bin' }], codes: ['entry_hardlink'], path: 'files/zz-hard' },
      { label: 'listed file hard-linked outside', entries: clone(v2).map((e) => (e.path === one.path ? { ...e, linkedOutside: true } : e)), codes: ['entry_hardlink'], path: 'files/one.bin', forms: ['dir'] },
      { label: 'FIFO', entries: [...clone(v2), { path: 'files/zz-fifo', kind: 'fifo' }], codes: ['entry_special'], path: 'files/zz-fifo' },
      { label: 'device file', entries: [...clone(v2), { path: 'files/zz-dev', kind: 'device' }], codes: ['entry_special'], path: 'files/zz-dev', forms: ['tar', 'tar.gz'] },
      { label: 'duplicate entry', entries: [...clone(v2).slice(0, 2), clone(v2)[1]!, ...clone(v2).slice(2)], codes: ['entry_duplicate'], path: v2[1]!.path, forms: ['tar', 'tar.gz'] },
      { label: 'duplicate entry, other bytes, at the end', entries: [...clone(v2), { path: one.path, kind: 'file', bytes: Buffer.from('forged') }], codes: ['entry_duplicate'], path: one.path, forms: ['tar', 'tar.gz'] },
      { label: 'dot-dot path', entries: [...clone(v2), { path: 'files/../evil', kind: 'file', bytes: Buffer.from('x') }], codes: ['path_unsafe'], path: 'files/../evil', forms: ['tar', 'tar.gz'] },
      { label: 'absolute path', entries: [...clone(v2), { path: '/evil', kind: 'file', bytes: Buffer.from('x') }], codes: ['path_unsafe'], path: '/evil', forms: ['tar', 'tar.gz'] },
      { label: 'dot segment', entries: [...clone(v2), { path: 'files/./one.bin', kind: 'file', bytes: one.bytes! }], codes: ['path_unsafe'], path: 'files/./one.bin', forms: ['tar', 'tar.gz'] },
      { label: 'backslash path', entries: [...clone(v2), { path: 'files\\one.bin', kind: 'file', bytes: one.bytes! }], codes: ['path_unsafe'], path: 'files\\one.bin', forms: ['tar', 'tar.gz'] },
    ];
    for (const v of variants) await check(v, misses);
    expect(misses).toEqual([]);
  }, 60_000);

  it('refuses reordered, duplicated and re-spelled manifest members (v2 JCS, v1 legacy form)', async () => {
    const misses: string[] = [];
    for (const [label, bundle] of [['v2', v2plain], ['v1', v1]] as const) {
      const text = bundle.find((e) => e.path === 'manifest.json')!.bytes!.toString('utf8');
      const m = JSON.parse(text) as Record<string, unknown>;
      const reordered = Object.fromEntries(Object.entries(m).reverse());
      const respell = label === 'v2' ? [JSON.stringify(reordered), JSON.stringify(m, null, 2), `${text}\n`, ` ${text}`] : [`${JSON.stringify(reordered, null, 2)}\n`, JSON.stringify(m), text.trimEnd(), text.replace(/\n/g, '\r\n')];
      const duplicated = text.replace('"caseId":', '"caseId":"case-0","caseId":').replace('"caseId": "', '"caseId": "case-0",\n  "caseId": "');
      const unicode = text.replace('tenant-a', 'tenant\\u002da');
      for (const [i, t] of [...respell, duplicated, unicode].entries()) {
        await check({ label: `${label} manifest re-spelled #${i}`, entries: replace(bundle, 'manifest.json', () => Buffer.from(t)), codes: ['manifest_invalid'], path: 'manifest.json' }, misses);
      }
    }
    expect(misses).toEqual([]);
  }, 60_000);

  it('rejects wrong, revoked and retired keys, with and without a TSA time', async () => {
    const misses: string[] = [];
    const now = Date.now();
    const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString();
    const other = generateSigningKeyPair();
    const next = generateSigningKeyPair();
    const nextSigner = createKeySigner(next.privateKeyPem);
    const trust = { tsaTrustAnchors: [tsa.caPem] };
    const build = (s: Signer, at: string, stamped: boolean): Promise<Entry[]> =>
      entriesOf((out) =>
        buildEvidenceBundle({ kind: 'evaluation', tenant: 'tenant-a', caseId: 'case-42', resourceId: 'eval-7', signer: s, createdAt: at, files: [{ path: 'a.txt', source: Buffer.from('a') }], output: { tarFile: out }, ...(stamped ? { timestamper: createHttpTimestamper(tsaUrl) } : {}) }),
      );
    // The key was retired an hour ago (rotated to `next`); a backdated bundle claims two hours ago.
    const retired = await Keyring.create({ signer, at: iso(now - 10 * 86_400_000) });
    await retired.rotate(next.publicKeyPem, { signer, at: iso(now - 3_600_000) });
    const revoked = await Keyring.create({ signer, at: iso(now - 10 * 86_400_000) });
    await revoked.add(next.publicKeyPem, { signer, at: iso(now - 7_200_000) });
    await revoked.revoke(pair.keyId, { signer: nextSigner, at: iso(now - 3_600_000), reason: 'key compromise' });
    const unknown = await Keyring.create({ signer: nextSigner, at: iso(now - 10 * 86_400_000) });
    const backdatedStamped = await build(signer, iso(now - 7_200_000), true);
    const backdatedPlain = await build(signer, iso(now - 7_200_000), false);
    const legacyRetired = fromEntries(await legacyBundleEntries({ files: FILES, signer, createdAt: iso(now - 7_200_000), timestamper: (d) => tsa.stamp(d) }));
    const variants: Variant[] = [
      { label: 'wrong public key', entries: v2, codes: ['key_mismatch'], path: pair.keyId, options: { publicKey: other.publicKeyPem } },
      { label: 'key not in the ring', entries: v2, codes: ['key_unknown'], path: pair.keyId, options: { keyring: unknown } },
      { label: 'revoked key, TSA time', entries: backdatedStamped, codes: ['key_revoked'], path: pair.keyId, options: { keyring: revoked, ...trust } },
      { label: 'revoked key, no TSA time', entries: backdatedPlain, codes: ['key_revoked'], path: pair.keyId, options: { keyring: revoked } },
      // The TSA saw the signature after the key was retired: proof of backdating, timestamp required or not.
      { label: 'retired key, backdated, TSA time', entries: backdatedStamped, codes: ['key_outside_validity'], path: pair.keyId, options: { keyring: retired, ...trust } },
      { label: 'retired key, backdated, TSA time, required', entries: backdatedStamped, codes: ['key_outside_validity'], path: pair.keyId, options: { keyring: retired, ...trust, requireTimestamp: true } },
      { label: 'retired key, backdated, no TSA time, required', entries: backdatedPlain, codes: ['key_time_unproven'], path: pair.keyId, options: { keyring: retired, ...trust, requireTimestamp: true } },
      { label: 'retired key, v1 root timestamp, required', entries: legacyRetired, codes: ['key_time_unproven'], path: pair.keyId, options: { keyring: retired, ...trust, requireTimestamp: true } },
      { label: 'retired key, TSA untrusted, required', entries: backdatedStamped, codes: ['timestamp_untrusted'], path: 'manifest.sigstore.json', options: { keyring: retired, requireTimestamp: true } },
    ];
    for (const v of variants) await check(v, misses);
    expect(misses).toEqual([]);

    // Without --require-timestamp a backdated signature by a retired key cannot be told from an
    // honest one; the verifier says the time is only asserted, and why that matters.
    const asserted = await verifyBundle(await materialize(backdatedPlain, 'tar'), { keyring: retired });
    expect(asserted.ok).toBe(true);
    expect(asserted.signingTime).toMatchObject({ source: 'asserted', time: iso(now - 7_200_000) });
    expect(asserted.notes.join(' ')).toMatch(/retired key can still sign a backdated bundle/);

    // Honest signatures: by the key before its retirement (TSA inside the window), and by its successor.
    const retiresLater = await Keyring.create({ signer, at: iso(now - 10 * 86_400_000) });
    await retiresLater.rotate(next.publicKeyPem, { signer, at: iso(now + 3_600_000) });
    const honest = await build(signer, iso(now - 1000), true);
    const ok1 = await verifyBundle(await materialize(honest, 'tar.gz'), { keyring: retiresLater, ...trust, requireTimestamp: true });
    expect(ok1.failures).toEqual([]);
    expect(ok1.signingTime).toMatchObject({ source: 'tsa', tsa: 'CN=StellaOps Test TSA' });
    const successor = await build(nextSigner, iso(now), true);
    const ok2 = await verifyBundle(await materialize(successor, 'dir'), { keyring: retired, ...trust, requireTimestamp: true });
    expect(ok2.failures).toEqual([]);
  }, 60_000);

  it('holds the gzip wrapper to one form and checks what the deflate stream inflates to', async () => {
    const tar = toTar(v2);
    const good = gz(tar);
    const at = (bytesOf: Buffer): Promise<BundleVerification> => {
      const p = join(work.dir, `gz-${seq++}.tar.gz`);
      return writeFile(p, bytesOf).then(() => verifyBundle(p, { publicKey }));
    };
    expect((await at(good)).ok).toBe(true);
    const misses: string[] = [];
    // Every header and trailer byte, appended data, a second member, a member split in two.
    const positionsToFlip = [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => good.length - 8 + i)];
    for (const p of positionsToFlip) {
      const copy = Buffer.from(good);
      copy[p]! ^= 0x01;
      const v = await at(copy);
      if (v.ok) misses.push(`flip @${p}`);
    }
    for (const [label, b] of [
      ['appended zeros', Buffer.concat([good, Buffer.alloc(512)])],
      ['appended trailer copy', Buffer.concat([good, good.subarray(-8)])],
      ['empty member first', Buffer.concat([gz(Buffer.alloc(0)), good])],
      ['two members', Buffer.concat([gz(tar.subarray(0, 1024)), gz(tar.subarray(1024))])],
      ['file name in header', (() => {
        const c = gzipSync(tar);
        const named = Buffer.concat([c.subarray(0, 3), Buffer.from([0x08]), c.subarray(4, 10), Buffer.from('bundle.tar\0'), c.subarray(10)]);
        named[9] = 3;
        return named;
      })()],
      ['truncated', good.subarray(0, good.length - 20)],
    ] as const) {
      const v = await at(b);
      if (v.ok || !v.failures.some((f) => f.code === 'archive_compression_invalid')) misses.push(`${label}: ${v.failures.map((f) => f.code).join(',') || 'VALID'}`);
    }
    // Sampled flips inside the deflate stream: each fails, or inflates to the very same tar (the
    // padding bits deflate leaves unused: no signed byte changed; documented).
    let identical = 0;
    for (let p = 10; p < good.length - 8; p += 29) {
      const copy = Buffer.from(good);
      copy[p]! ^= 0x40;
      const v = await at(copy);
      if (!v.ok) continue;
      let inflated: Buffer | undefined;
      try {
        inflated = gunzipSync(copy);
      } catch {
        inflated = undefined;
      }
      if (inflated?.equals(tar)) identical++;
      else misses.push(`deflate flip @${p} verified with different content`);
    }
    expect(misses).toEqual([]);
    expect(identical).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
