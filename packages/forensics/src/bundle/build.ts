import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, createWriteStream, fstatSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { link, mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
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
import { BLOCK, comparePaths, END_OF_ARCHIVE, paddingFor, writeTarHeader } from './tar.js';
import { Pacer } from './pacer.js';

/** Where a file's bytes come from: a file-system path, bytes in memory, or a stream (or a factory of one). */
export type FileSource = string | Uint8Array | Readable | (() => Readable | Promise<Readable>);

export interface BundleFileInput {
  /** Path inside the bundle, relative to `files/`. */
  readonly path: string;
  readonly source: FileSource;
  /** Required for stream sources written to a tar (the header precedes the bytes); checked when given. */
  readonly size?: number;
}

/**
 * A directory bundle, a `.tar` file, or a tar written to a stream the caller owns (not ended by
 * us). `consumesChunks: true` declares that the stream is done with each chunk once its write
 * callback runs — true of files, sockets, HTTP responses and zlib streams, not of a
 * PassThrough or anything that queues the chunk itself — and lets the builder reuse its
 * buffers instead of allocating one per chunk.
 */
export type BundleOutput = { readonly directory: string } | { readonly tarFile: string } | { readonly tarStream: Writable; readonly consumesChunks?: boolean };

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
  /** Read and write unit: files are read, hashed and written in pieces of at most this many bytes. Default 1 MiB. */
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

/** Awaitable writes with backpressure, remembering the stream's first error. */
class Out {
  #error: Error | undefined;
  constructor(readonly stream: Writable) {
    stream.on('error', (err: Error) => {
      this.#error ??= err;
    });
  }

  /** Writes `chunk`; `done` runs once the stream has finished with it (its write callback). */
  async write(chunk: Uint8Array, done?: () => void): Promise<void> {
    if (this.#error) throw this.#wrap(this.#error);
    const accepted = done ? this.stream.write(chunk, (err) => (err ? undefined : done())) : this.stream.write(chunk);
    if (!accepted) {
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


/**
 * The archive as it is written: headers, content and padding are laid into one buffer of
 * `chunkSize` bytes, and each full buffer goes to the output in one write. File content is read
 * straight into this buffer, hashed there and written from there: no copy, one write per chunk
 * whatever the number of files. With `reuse`, a buffer goes back to a small pool once the
 * output's write callback says it is done with it (a file the builder writes itself, or a
 * stream its owner declared to consume its chunks), so a bundle of any size runs on a handful
 * of buffers and leaves no garbage; otherwise each write gets a fresh buffer, since the output
 * may keep the one it got.
 */
class TarBatch {
  #buf: Buffer;
  #used = 0;
  readonly #pool: Buffer[] = [];
  constructor(
    private readonly out: Out,
    private readonly capacity: number,
    private readonly pacer: Pacer,
    private readonly reuse: boolean,
  ) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  /** The current buffer and where its free space starts (valid until the next flush). */
  get buf(): Buffer {
    return this.#buf;
  }
  get used(): number {
    return this.#used;
  }
  /** Free bytes at the end of the current buffer. */
  get spare(): number {
    return this.capacity - this.#used;
  }

  /** Makes room for `n` bytes (n ≤ capacity) at the end; returns the buffer and the offset to fill. */
  async room(n: number): Promise<{ buf: Buffer; at: number }> {
    if (this.#used + n > this.capacity) await this.flush();
    return { buf: this.#buf, at: this.#used };
  }

  commit(n: number): void {
    this.#used += n;
  }

  /** Writes a header; the caller made room for it (`spare ≥ 512`). */
  headerNow(path: string, size: number, mtime: number): void {
    writeTarHeader(this.#buf, this.#used, path, size, mtime);
    this.#used += BLOCK;
  }

  /** Writes `n` zero bytes; the caller made room for them. */
  zerosNow(n: number): void {
    this.#buf.fill(0, this.#used, this.#used + n);
    this.#used += n;
  }

  async header(path: string, size: number, mtime: number): Promise<void> {
    if (this.spare < BLOCK) await this.flush();
    this.headerNow(path, size, mtime);
  }

  async zeros(n: number): Promise<void> {
    if (n === 0) return;
    if (this.spare < n) await this.flush();
    this.zerosNow(n);
  }

  /** Appends bytes: copied when small, else written as they are after what is pending. */
  async bytes(data: Uint8Array): Promise<void> {
    if (data.byteLength <= this.capacity >> 2) {
      const { buf, at } = await this.room(data.byteLength);
      buf.set(data, at);
      this.commit(data.byteLength);
      return;
    }
    await this.flush();
    await this.out.write(data);
  }

  async flush(): Promise<void> {
    if (this.#used > 0) {
      const whole = this.#buf;
      const full = whole.subarray(0, this.#used);
      this.#used = 0;
      await this.out.write(full, this.reuse ? () => this.#pool.push(whole) : undefined);
      // Taken after the write: a stream that finished with the buffer at once gives it straight
      // back, and the same memory (still in the CPU's caches) takes the next chunk.
      this.#buf = this.#pool.pop() ?? Buffer.allocUnsafe(this.capacity);
    }
    await this.pacer.maybeYield();
  }
}

function readError(path: string, cause: unknown): ForensicsError {
  return new ForensicsError('io_error', `cannot read ${path}: ${(cause as Error).message}`, { cause });
}

/** Reads until `length` bytes are in or the file ends; returns how many were read. */
function readFully(fd: number, path: string, buf: Buffer, at: number, length: number, position: number): number {
  let filled = 0;
  try {
    while (filled < length) {
      const n = readSync(fd, buf, at + filled, length - filled, position + filled);
      if (n === 0) break;
      filled += n;
    }
  } catch (cause) {
    throw readError(path, cause);
  }
  return filled;
}

function sizeChanged(path: string, expected: number, read: number): ForensicsError {
  return new ForensicsError('size_mismatch', `${path}: expected ${expected} bytes, read ${read} (file changed while bundling?)`);
}

/**
 * One file of the file system into the archive: read synchronously, straight into the batch
 * (so a small file costs one open, one read and one close, no thread-pool round trips and no
 * allocation), hashed where it lies, written with its neighbours. A file that grew or shrank
 * since it was sized fails, never cut silently.
 */
async function fileIntoTar(batch: TarBatch, fd: number, source: string, bundlePath: string, size: number, mtime: number, hash: Hash): Promise<void> {
  // Synchronous unless a buffer fills: a small file costs no promise and no allocation here.
  try {
    if (batch.spare < BLOCK) await batch.flush();
    batch.headerNow(CONTENT_PREFIX + bundlePath, size, mtime);
    let position = 0;
    let endChecked = false;
    while (position < size) {
      if (batch.spare === 0) await batch.flush();
      const buf = batch.buf;
      const at = batch.used;
      const n = batch.spare;
      const remaining = size - position;
      // The last piece asks for one byte more: a file that grew must not be cut silently.
      endChecked = remaining < n;
      const want = endChecked ? remaining + 1 : n;
      const got = readFully(fd, source, buf, at, want, position);
      if (got > remaining || (got < want && got < remaining)) throw sizeChanged(bundlePath, size, position + got);
      hash.update(buf.subarray(at, at + got));
      batch.commit(got);
      position += got;
    }
    // An empty file, or one that ended exactly on a piece boundary: nothing may follow.
    if (!endChecked && readFully(fd, source, Buffer.allocUnsafe(1), 0, 1, size) > 0) throw sizeChanged(bundlePath, size, size + 1);
  } finally {
    closeSync(fd);
  }
  const pad = paddingFor(size);
  if (pad > 0) {
    if (batch.spare < pad) await batch.flush();
    batch.zerosNow(pad);
  }
}

/** One file of the file system into an unpacked bundle directory, read and written synchronously in pieces. */
async function fileIntoDirectory(fd: number, source: string, target: string, bundlePath: string, size: number, hash: Hash, scratch: Buffer, pacer: Pacer): Promise<void> {
  let out: number | undefined;
  try {
    out = openSync(target, 'wx', 0o644);
    let position = 0;
    for (;;) {
      const want = Math.min(scratch.length, size - position + 1);
      const got = readFully(fd, source, scratch, 0, want, position);
      if (position + got > size) throw sizeChanged(bundlePath, size, position + got);
      if (got === 0) break;
      hash.update(scratch.subarray(0, got));
      for (let written = 0; written < got; ) written += writeSync(out, scratch, written, got - written);
      position += got;
      await pacer.maybeYield();
    }
    if (position !== size) throw sizeChanged(bundlePath, size, position);
  } catch (cause) {
    if (cause instanceof ForensicsError) throw cause;
    throw new ForensicsError('io_error', `writing the bundle failed: ${(cause as Error).message}`, { cause });
  } finally {
    closeSync(fd);
    if (out !== undefined) closeSync(out);
  }
}

/** A stream source (or a factory of one), chunk by chunk. */
async function* streamChunks(source: Readable | (() => Readable | Promise<Readable>)): AsyncGenerator<Buffer> {
  const stream = typeof source === 'function' ? await source() : source;
  try {
    for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
  } catch (cause) {
    throw new ForensicsError('io_error', `reading a bundle file failed: ${(cause as Error).message}`, { cause });
  }
}

/** Opens a file-system source for reading and sizes it (it must be a regular file), with one open and one fstat. */
function openSource(source: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (cause) {
    throw readError(source, cause);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new ForensicsError('invalid_argument', `${source} is not a regular file`);
    return { fd, size: s.size };
  } catch (cause) {
    closeSync(fd);
    if (cause instanceof ForensicsError) throw cause;
    throw readError(source, cause);
  }
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
 *
 * Files of the file system are read with synchronous reads straight into the archive's write
 * buffer (`chunkSize`, default 1 MiB): a small file costs an open, a read and a close and no
 * thread-pool round trip, a large one is read a chunk at a time. The event loop gets a turn at
 * least every 10 ms of such work, so a service that bundles in-process keeps answering.
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
  // At least a few blocks: a header, padding and small metadata always fit in one buffer.
  const chunkSize = Math.max(options.chunkSize ?? 1 << 20, 4096);

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
    // A deep write queue: the disk (thread pool) writes one chunk while the next is read and hashed.
    tar = new Out(createWriteStream(temp, { flags: 'wx', highWaterMark: 8 * chunkSize }));
  } else {
    tar = new Out(output.tarStream);
  }

  const pacer = new Pacer();
  const reuse = 'tarFile' in output || ('tarStream' in output && output.consumesChunks === true);
  const batch = tar ? new TarBatch(tar, chunkSize, pacer, reuse) : undefined;
  let scratch: Buffer | undefined;
  const madeDirs = new Set<string>();
  try {
    const entries: ManifestFile[] = [];
    let contentBytes = 0;
    for (const file of files) {
      // A file of the file system is opened and sized at its turn (the tar header needs the size first).
      const opened = typeof file.source === 'string' ? openSource(file.source) : undefined;
      const declared = opened ? opened.size : file.source instanceof Uint8Array ? file.source.byteLength : file.size;
      if (file.size !== undefined && declared !== undefined && file.size !== declared) {
        if (opened) closeSync(opened.fd);
        throw new ForensicsError('size_mismatch', `${file.path}: declared size ${file.size} but the source has ${declared} bytes`);
      }
      if (batch && declared === undefined) {
        throw new ForensicsError('size_required', `${file.path}: a stream source needs "size" when writing a tar`);
      }
      const hash = createHash('sha256');
      const source = file.source;
      let size: number;
      if (batch) {
        if (opened) {
          await fileIntoTar(batch, opened.fd, source as string, file.path, declared!, mtime, hash);
          size = declared!;
        } else if (source instanceof Uint8Array) {
          await batch.header(CONTENT_PREFIX + file.path, declared!, mtime);
          hash.update(source);
          await batch.bytes(source);
          await batch.zeros(paddingFor(source.byteLength));
          size = source.byteLength;
        } else {
          await batch.header(CONTENT_PREFIX + file.path, declared!, mtime);
          size = 0;
          for await (const chunk of streamChunks(source as Readable | (() => Readable | Promise<Readable>))) {
            size += chunk.length;
            if (size > declared!) break;
            hash.update(chunk);
            await batch.bytes(chunk);
          }
          if (size !== declared) throw sizeChanged(file.path, declared!, size);
          await batch.zeros(paddingFor(size));
        }
      } else {
        const p = join(temp!, CONTENT_PREFIX, ...file.path.split('/'));
        const parent = dirname(p);
        if (!madeDirs.has(parent)) {
          try {
            mkdirSync(parent, { recursive: true });
          } catch (cause) {
            if (opened) closeSync(opened.fd);
            throw cause;
          }
          madeDirs.add(parent);
        }
        if (opened) {
          scratch ??= Buffer.allocUnsafe(chunkSize);
          await fileIntoDirectory(opened.fd, source as string, p, file.path, declared!, hash, scratch, pacer);
          size = declared!;
        } else if (source instanceof Uint8Array) {
          hash.update(source);
          try {
            writeFileSync(p, source, { flag: 'wx', mode: 0o644 });
          } catch (cause) {
            throw new ForensicsError('io_error', `writing the bundle failed: ${(cause as Error).message}`, { cause });
          }
          size = source.byteLength;
          await pacer.maybeYield();
        } else {
          const dest = new Out(createWriteStream(p, { flags: 'wx', mode: 0o644 }));
          size = 0;
          for await (const chunk of streamChunks(source as Readable | (() => Readable | Promise<Readable>))) {
            size += chunk.length;
            if (declared !== undefined && size > declared) break;
            hash.update(chunk);
            await dest.write(chunk);
          }
          await dest.close();
          if (declared !== undefined && size !== declared) throw sizeChanged(file.path, declared, size);
        }
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
      if (batch) {
        await batch.header(name, bytes.length, mtime);
        await batch.bytes(bytes);
        await batch.zeros(paddingFor(bytes.length));
      } else {
        const out = new Out(createWriteStream(join(temp!, name), { flags: 'wx', mode: 0o644 }));
        await out.write(bytes);
        await out.close();
      }
    }
    if (batch && tar) {
      await batch.bytes(END_OF_ARCHIVE);
      await batch.flush();
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
