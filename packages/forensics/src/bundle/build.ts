import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { decodeBase64, encodeBase64 } from '../encoding/base64.js';
import { jcsBytes, type JsonObject } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { signDsse, type DsseEnvelope } from '../dsse/dsse.js';
import { normalizeSignature, type Signer } from '../keys/signer.js';
import { MerkleTree } from '../merkle/merkle.js';
import { canonicalTimestampResponse, verifyTimestamp } from '../timestamp/rfc3161.js';
import { canonicalEnvelope, serializeSigstoreBundle, sigstoreBundle, type SigstoreBundle } from './sigstore.js';
import {
  BUNDLE_ENTRIES,
  CONTENT_PREFIX,
  EVIDENCE_KINDS,
  MANIFEST_FORMAT,
  MANIFEST_PAYLOAD_TYPE,
  manifestLeafHash,
  merkleRootFileContent,
  serializeManifest,
  validateContentPath,
  type EvidenceKind,
  type EvidenceManifest,
  type ManifestFile,
} from './manifest.js';
import { comparePaths, END_OF_ARCHIVE, paddingFor, tarHeader } from './tar.js';

/** Where a file's bytes come from: a file-system path, bytes in memory, or a stream (or a factory of one). */
export type FileSource = string | Uint8Array | Readable | (() => Readable | Promise<Readable>);

export interface BundleFileInput {
  /** Path inside the bundle, relative to `files/`. */
  readonly path: string;
  readonly source: FileSource;
  /** Required for stream sources written to a tar (the header precedes the bytes); checked when given. */
  readonly size?: number;
}

/** A directory bundle, a `.tar` file, or a tar written to a stream the caller owns (not ended by us). */
export type BundleOutput = { readonly directory: string } | { readonly tarFile: string } | { readonly tarStream: Writable };

export interface BuildEvidenceBundleOptions {
  readonly kind: EvidenceKind;
  readonly tenant: string;
  readonly caseId: string;
  readonly resourceId: string;
  readonly bundleId?: string;
  /** Creation time; fixes every tar mtime, so the same inputs give the same bytes. */
  readonly createdAt: Date | string;
  readonly signer: Signer;
  readonly files: readonly BundleFileInput[];
  readonly metadata?: JsonObject;
  /**
   * Optional RFC 3161 stamping (see createHttpTimestamper): called once, after signing, with the
   * bytes of the DSSE envelope's signature; returns a DER TimeStampResp. The token is stored,
   * in its canonical form, in `manifest.sigstore.json`: it proves the signature existed at the
   * TSA's time, which bounds when the key signed.
   */
  readonly timestamper?: (signature: Uint8Array) => Promise<Uint8Array>;
  readonly output: BundleOutput;
  /** Read buffer per file. Default 1 MiB. */
  readonly chunkSize?: number;
}

export interface EvidenceBundle {
  readonly manifest: EvidenceManifest;
  readonly manifestBytes: Buffer;
  /** Hex SHA-256 of manifest.json. */
  readonly manifestDigest: string;
  /** Hex Merkle root (also in root.merkle). */
  readonly root: string;
  /** Raw signature in manifest.sig (base64 in the file). */
  readonly signature: Buffer;
  readonly envelope: DsseEnvelope;
  /** The canonical RFC 3161 TimeStampResp over the envelope's signature, when a timestamper was given. */
  readonly timestamp?: Buffer;
  /** What `manifest.sigstore.json` holds. */
  readonly sigstoreBundle: SigstoreBundle;
  /** The bundle's Merkle tree, for inclusion proofs of single files. */
  readonly tree: MerkleTree;
  /** Content bytes written. */
  readonly contentBytes: number;
}

/** Files opened and read ahead of the one being hashed (each holds at most one chunk). */
const READ_AHEAD_FILES = 4;

/** Awaitable writes with backpressure, remembering the stream's first error. */
class Out {
  #error: Error | undefined;
  constructor(readonly stream: Writable) {
    stream.on('error', (err: Error) => {
      this.#error ??= err;
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#error) throw this.#wrap(this.#error);
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.stream.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.stream.off('drain', onDrain);
          reject(this.#wrap(err));
        };
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }

  async close(): Promise<void> {
    if (this.#error) throw this.#wrap(this.#error);
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', (err: Error) => reject(this.#wrap(err)));
      this.stream.end(() => resolve());
    });
  }

  #wrap(err: Error): ForensicsError {
    return new ForensicsError('io_error', `writing the bundle failed: ${err.message}`, { cause: err });
  }
}

async function sourceSize(file: BundleFileInput): Promise<number | undefined> {
  if (typeof file.source === 'string') {
    try {
      const s = await stat(file.source);
      if (!s.isFile()) throw new ForensicsError('invalid_argument', `${file.source} is not a regular file`);
      return s.size;
    } catch (cause) {
      if (cause instanceof ForensicsError) throw cause;
      throw new ForensicsError('io_error', `cannot read ${file.source}: ${(cause as Error).message}`, { cause });
    }
  }
  if (file.source instanceof Uint8Array) return file.source.byteLength;
  return file.size;
}

async function* chunksOf(source: FileSource, chunkSize: number, size: number | undefined): AsyncGenerator<Buffer> {
  if (source instanceof Uint8Array) {
    yield Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return;
  }
  if (typeof source === 'string') {
    yield* fileChunks(source, chunkSize, size ?? 0);
    return;
  }
  const stream = typeof source === 'function' ? await source() : source;
  try {
    for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
  } catch (cause) {
    throw new ForensicsError('io_error', `reading a bundle file failed: ${(cause as Error).message}`, { cause });
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/**
 * Reads a file of known size with one read always in flight ahead of the consumer, so the disk
 * (thread pool) and the hash (this thread) overlap. The last read asks for one byte more than
 * expected: a file that grew while being bundled must not be cut silently, and small files then
 * cost one open, one read and one close.
 */
async function* fileChunks(path: string, chunkSize: number, size: number): AsyncGenerator<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new ForensicsError('io_error', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const readFrom = (position: number): Promise<Buffer> => {
    const left = size - position;
    return readAt(fh, position, left > chunkSize ? chunkSize : left + 1);
  };
  try {
    let position = 0;
    let next: Promise<Buffer> | undefined = readFrom(0);
    while (next) {
      const chunk = await next;
      if (chunk.length === 0) break;
      position += chunk.length;
      next = position < size ? readFrom(position) : undefined;
      yield chunk;
    }
  } catch (cause) {
    if (cause instanceof ForensicsError) throw cause;
    throw new ForensicsError('io_error', `reading ${path} failed: ${(cause as Error).message}`, { cause });
  } finally {
    await fh.close();
  }
}

/** Starts a generator right away (open + first read) so its I/O overlaps the caller's work. */
function prefetched(gen: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const first = gen.next();
  // A failure surfaces when the file's turn comes; until then it must not count as unhandled.
  first.catch(() => undefined);
  return (async function* () {
    try {
      const r = await first;
      if (r.done) return;
      yield r.value;
      yield* gen;
    } finally {
      await gen.return(undefined);
    }
  })();
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function iso(value: Date | string): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new ForensicsError('invalid_argument', `createdAt is not a valid time: ${String(value)}`);
  return d.toISOString();
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ForensicsError('invalid_argument', `${what} must be a non-empty string`);
  return value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds, signs and writes an evidence bundle in one pass: each file's bytes are read once,
 * hashed once and written as they stream. File outputs appear atomically (written beside the
 * target, then moved into place) and never overwrite an existing bundle.
 */
export async function buildEvidenceBundle(options: BuildEvidenceBundleOptions): Promise<EvidenceBundle> {
  if (!EVIDENCE_KINDS.includes(options.kind)) {
    throw new ForensicsError('invalid_argument', `kind must be one of ${EVIDENCE_KINDS.join(', ')}, not ${JSON.stringify(options.kind)}`);
  }
  const tenant = checkText(options.tenant, 'tenant');
  const caseId = checkText(options.caseId, 'caseId');
  const resourceId = checkText(options.resourceId, 'resourceId');
  const createdAt = iso(options.createdAt);
  const mtime = Math.floor(new Date(createdAt).getTime() / 1000);
  if (mtime < 0) throw new ForensicsError('invalid_argument', 'createdAt must not be before 1970');
  const chunkSize = options.chunkSize ?? 1 << 20;

  const files = [...options.files].map((f) => ({ ...f, path: validateContentPath(f.path) })).sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < files.length; i++) {
    if (files[i - 1]!.path === files[i]!.path) throw new ForensicsError('duplicate_path', `bundle file ${files[i]!.path} is given twice`);
  }

  const output = options.output;
  let target: string | undefined;
  let temp: string | undefined;
  let tar: Out | undefined;
  if ('directory' in output) {
    target = output.directory;
    if (await exists(target)) throw new ForensicsError('io_error', `${target} already exists; a committed bundle is never overwritten`);
    temp = `${target}.partial-${randomBytes(6).toString('hex')}`;
    await mkdir(dirname(target), { recursive: true });
    await mkdir(temp);
  } else if ('tarFile' in output) {
    target = output.tarFile;
    if (await exists(target)) throw new ForensicsError('io_error', `${target} already exists; a committed bundle is never overwritten`);
    await mkdir(dirname(target), { recursive: true });
    temp = `${target}.partial-${randomBytes(6).toString('hex')}`;
    tar = new Out(createWriteStream(temp, { flags: 'wx' }));
  } else {
    tar = new Out(output.tarStream);
  }

  const pendingSources: AsyncGenerator<Buffer>[] = [];
  try {
    const entries: ManifestFile[] = [];
    let contentBytes = 0;
    // Sizes up front (a few at a time): the tar header needs them, and bad paths fail before any write.
    const sizes = await mapLimit(files, 8, sourceSize);
    // While one file is hashed and written, the next one is already being opened and read.
    const started = new Map<number, AsyncGenerator<Buffer>>();
    const start = (i: number): AsyncGenerator<Buffer> | undefined => {
      const f = files[i];
      if (!f) return undefined;
      const existing = started.get(i);
      if (existing) return existing;
      const inner = chunksOf(f.source, chunkSize, sizes[i]);
      const gen = typeof f.source === 'string' ? prefetched(inner) : inner;
      started.set(i, gen);
      // Both, so an aborted build closes a file that was opened ahead but never consumed.
      pendingSources.push(gen, inner);
      return gen;
    };
    for (const [index, file] of files.entries()) {
      const declared = sizes[index];
      if (file.size !== undefined && declared !== undefined && file.size !== declared) {
        throw new ForensicsError('size_mismatch', `${file.path}: declared size ${file.size} but the source has ${declared} bytes`);
      }
      if (tar && declared === undefined) {
        throw new ForensicsError('size_required', `${file.path}: a stream source needs "size" when writing a tar`);
      }
      let dest: Out | undefined;
      if (tar) {
        await tar.write(tarHeader(CONTENT_PREFIX + file.path, declared!, mtime));
      } else {
        const p = join(temp!, CONTENT_PREFIX, ...file.path.split('/'));
        await mkdir(dirname(p), { recursive: true });
        dest = new Out(createWriteStream(p, { flags: 'wx', mode: 0o644 }));
      }
      const out = tar ?? dest!;
      const hash = createHash('sha256');
      let size = 0;
      const chunks = start(index)!;
      // A few files ahead: per-file open/read/close latency (thread pool hops) hides behind hashing.
      for (let ahead = 1; ahead <= READ_AHEAD_FILES; ahead++) if (typeof files[index + ahead]?.source === 'string') start(index + ahead);
      started.delete(index);
      for await (const chunk of chunks) {
        size += chunk.length;
        if (declared !== undefined && size > declared) break;
        hash.update(chunk);
        await out.write(chunk);
      }
      if (declared !== undefined && size !== declared) {
        throw new ForensicsError('size_mismatch', `${file.path}: expected ${declared} bytes, read ${size} (file changed while bundling?)`);
      }
      if (tar) {
        const pad = paddingFor(size);
        if (pad) await tar.write(Buffer.alloc(pad));
      } else {
        await dest!.close();
      }
      entries.push({ path: file.path, size, sha256: hash.digest('hex') });
      contentBytes += size;
    }

    const tree = MerkleTree.fromLeafHashes(entries.map(manifestLeafHash));
    const root = tree.root().toString('hex');
    const rootFile = merkleRootFileContent(root);
    const manifest: EvidenceManifest = {
      format: MANIFEST_FORMAT,
      kind: options.kind,
      tenant,
      caseId,
      resourceId,
      ...(options.bundleId ? { bundleId: options.bundleId } : {}),
      createdAt,
      files: entries,
      merkle: { algorithm: 'rfc9162-sha256', leaf: 'path NUL size NUL sha256-hex', treeSize: entries.length, root },
      signer: { keyId: options.signer.keyId, algorithm: options.signer.algorithm },
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    const manifestBytes = serializeManifest(manifest);
    const signature = normalizeSignature(options.signer.algorithm, await options.signer.sign(manifestBytes));
    const envelope = canonicalEnvelope(await signDsse(manifestBytes, MANIFEST_PAYLOAD_TYPE, options.signer));
    let timestamp: Buffer | undefined;
    if (options.timestamper) {
      const dsseSignature = decodeBase64(envelope.signatures[0]!.sig);
      timestamp = canonicalTimestampResponse(await options.timestamper(dsseSignature));
      const check = await verifyTimestamp(timestamp, { data: dsseSignature });
      if (!check.ok) throw new ForensicsError('invalid_timestamp', `the timestamper returned an unusable token: ${check.failures.map((f) => f.message).join('; ')}`);
    }
    const sigstore = sigstoreBundle(envelope, options.signer.keyId, timestamp ? [timestamp] : []);

    // Sorted order: "files/..." < "manifest.dsse.json" < "manifest.json" < "manifest.sig" < "manifest.sigstore.json" < "root.merkle".
    const meta: [string, Buffer][] = [
      [BUNDLE_ENTRIES.envelope, jcsBytes(envelope)],
      [BUNDLE_ENTRIES.manifest, manifestBytes],
      [BUNDLE_ENTRIES.signature, Buffer.from(encodeBase64(signature), 'ascii')],
      [BUNDLE_ENTRIES.sigstore, serializeSigstoreBundle(sigstore)],
      [BUNDLE_ENTRIES.merkleRoot, rootFile],
    ];
    for (const [name, bytes] of meta) {
      if (tar) {
        await tar.write(tarHeader(name, bytes.length, mtime));
        await tar.write(bytes);
        const pad = paddingFor(bytes.length);
        if (pad) await tar.write(Buffer.alloc(pad));
      } else {
        const out = new Out(createWriteStream(join(temp!, name), { flags: 'wx', mode: 0o644 }));
        await out.write(bytes);
        await out.close();
      }
    }
    if (tar) {
      await tar.write(END_OF_ARCHIVE);
      if ('tarFile' in output) await tar.close();
    }
    if ('tarFile' in output) {
      // link() fails if the target appeared meanwhile, so a racing writer can never be overwritten.
      await link(temp!, target!);
      await unlink(temp!);
    } else if ('directory' in output) {
      if (await exists(target!)) throw new ForensicsError('io_error', `${target} appeared while building; not overwriting it`);
      await rename(temp!, target!);
    }
    return {
      manifest,
      manifestBytes,
      manifestDigest: createHash('sha256').update(manifestBytes).digest('hex'),
      root,
      signature,
      envelope,
      ...(timestamp ? { timestamp } : {}),
      sigstoreBundle: sigstore,
      tree,
      contentBytes,
    };
  } catch (err) {
    for (const gen of pendingSources) await gen.return(undefined).catch(() => undefined);
    if (tar && 'tarFile' in output) {
      // Wait for the file to be closed (and opened, if that was still pending): removing it
      // before would let a late open re-create it.
      const stream = tar.stream;
      if (!stream.closed) await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.destroy();
      });
    }
    if (temp) await rm(temp, { recursive: true, force: true });
    if (err instanceof ForensicsError) throw err;
    throw new ForensicsError('io_error', `building the bundle failed: ${(err as Error).message}`, { cause: err });
  }
}
