/**
 * STO-2: the append-only, tenant- and hour-partitioned store of received telemetry. Each
 * (tenant, signal, hour) has one file of length-prefixed records per writing replica (see
 * segment-path.ts for the names, segment-frame.ts for the records),
 * appended with one positioned write each, never rewritten. `durable()` makes every append so
 * far survive a power cut: one `fdatasync` per dirty file per round, shared by every caller
 * waiting at that moment (group commit), off the event loop. Past hours are sealed: the file
 * is synced, closed for good, and its deterministic chunk manifest written beside it.
 * Everything else (the SQL index, captures) is derived from these files.
 *
 * Several replicas may share one root (SCALE-1): each appends only to the files named with its
 * own replica id, reads everyone's, seals its own past hours — and another replica's once that
 * hour ended `foreignSealGraceMs` ago (a replica that stopped for good) — and never removes a
 * segment of another replica that is not sealed, which may still be open for appends.
 */
import { closeSync, existsSync, fdatasync, fstatSync, statSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writevSync } from 'node:fs';
import { open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@stellaops/telemetry-core';
import type { CodesOf } from '../errors.js';
import type { Signal } from './signal-records.js';
import { buildSegmentManifest, serializeSegmentManifest, type SegmentManifest } from './chunk-manifest.js';
import { decodeFrameHeader, encodeFrameHeader, frameIsIntact, FRAME_HEADER_BYTES } from './segment-frame.js';
import { hourKey, hourStart, HOUR_MS, parseSegmentName, REPLICA_ID_RE, segmentId, segmentName } from './segment-path.js';

export interface AppendedRecord {
  /** `<signal>/<name>`, what the index stores. */
  segment: string;
  /** Byte offset of the record's frame header in the segment file. */
  offset: number;
  /** Byte offset just past the record (where the next one starts). */
  end: number;
}

export interface StoredRecord {
  offset: number;
  receivedAtMs: number;
  items: number;
  /** Payload length in bytes (also when the payload was not read). */
  length: number;
  payload: Buffer;
}

export interface SegmentInfo {
  tenant: string;
  signal: Signal;
  /** The file name without `.seg`: the hour, then `.<replica>` when a replica writes it. */
  name: string;
  hour: string;
  /** The replica that writes it; absent for the one-service layout. */
  replica?: string;
  path: string;
  sealed: boolean;
}

export interface SegmentStoreOptions {
  /**
   * The id of this replica: appends go to `<hour>.<replica>.seg`. Absent → `<hour>.seg`, the
   * layout of one service alone on its directory.
   */
  replica?: string;
  /** How long after its hour ended another replica's unsealed segment is sealed by this one. Default 15 minutes. */
  foreignSealGraceMs?: number;
}

interface OpenSegment {
  fd: number;
  size: number;
  lastReceivedAt: number;
  /** Appended since the last sync round started. */
  dirty: boolean;
}

/** `segment.*` of errors.ts. */
export type SegmentErrorCode = CodesOf<'segment'>;

export class SegmentError extends Error {
  override readonly name = 'SegmentError';
  constructor(
    readonly code: SegmentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class SegmentStore {
  private readonly open = new Map<string, OpenSegment>();
  /** The sync round in progress, and the one the callers arriving meanwhile wait for. */
  private syncing: Promise<void> | undefined;
  private nextRound: Promise<void> | undefined;

  readonly replica: string | undefined;
  private readonly foreignSealGraceMs: number;

  /** @param root directory holding one folder per tenant. */
  constructor(
    readonly root: string,
    private readonly logger?: Logger,
    options: SegmentStoreOptions = {},
  ) {
    if (options.replica !== undefined && !REPLICA_ID_RE.test(options.replica)) {
      throw new SegmentError('segment.replica_invalid', `replica id "${options.replica}" is not usable in a segment name (letters, digits, "_" and "-", at most 63)`);
    }
    this.replica = options.replica;
    this.foreignSealGraceMs = options.foreignSealGraceMs ?? 15 * 60_000;
    mkdirSync(root, { recursive: true });
  }

  /** The file of segment `name` (`<hour>` or `<hour>.<replica>`, see segment-path.ts). */
  path(tenant: string, signal: Signal, name: string): string {
    return join(this.root, tenant, signal, `${name}.seg`);
  }

  manifestPath(tenant: string, signal: Signal, name: string): string {
    return join(this.root, tenant, signal, `${name}.manifest.json`);
  }

  /** True for the segments this store appends to: its replica's, or every one in the one-service layout (no replica id on either). */
  owns(seg: Pick<SegmentInfo, 'replica'>): boolean {
    return seg.replica === this.replica || seg.replica === undefined;
  }

  /**
   * Appends one record to the segment of `receivedAtMs`'s hour. Synchronous on purpose: one
   * writev per record keeps records whole and in order without a queue, and costs microseconds.
   */
  append(tenant: string, signal: Signal, receivedAtMs: number, items: number, payload: Uint8Array): AppendedRecord {
    const name = segmentName(hourKey(receivedAtMs), this.replica);
    const key = `${tenant}/${signal}/${name}`;
    let seg = this.open.get(key);
    if (!seg) seg = this.openForAppend(tenant, signal, name, key);
    // Receive times never go backwards inside a file, so record order is time order.
    const at = Math.max(receivedAtMs, seg.lastReceivedAt);
    const header = encodeFrameHeader(payload, at, items);
    const offset = seg.size;
    try {
      const written = writevSync(seg.fd, [header, payload], offset);
      if (written !== FRAME_HEADER_BYTES + payload.byteLength) throw new Error(`short write (${written} bytes)`);
    } catch (cause) {
      // Cut back to the last whole record so the file never holds a torn one.
      try {
        ftruncateSync(seg.fd, offset);
      } catch {
        /* the next open's tail check repairs it */
      }
      throw new SegmentError('segment.io_error', `appending to ${key} failed: ${(cause as Error).message}`, { cause });
    }
    seg.size = offset + FRAME_HEADER_BYTES + payload.byteLength;
    seg.lastReceivedAt = at;
    seg.dirty = true;
    return { segment: segmentId(signal, name), offset, end: seg.size };
  }

  /**
   * Resolves once every record appended before the call is on stable storage. Callers that
   * arrive while a round is running share the next round, so N concurrent requests cost one
   * `fdatasync` per file, not N. Rejects with `segment.io_error` when the disk refuses.
   */
  durable(): Promise<void> {
    if (!this.syncing) return (this.syncing = this.syncRound());
    this.nextRound ??= this.syncing.catch(() => undefined).then(() => {
      this.nextRound = undefined;
      return (this.syncing = this.syncRound());
    });
    return this.nextRound;
  }

  private async syncRound(): Promise<void> {
    try {
      const dirty = [...this.open.values()].filter((s) => s.dirty);
      for (const s of dirty) s.dirty = false;
      const failures = await Promise.all(
        dirty.map(
          (s) =>
            new Promise<Error | undefined>((resolve) => {
              fdatasync(s.fd, (error) => {
                if (error) s.dirty = true;
                resolve(error ?? undefined);
              });
            }),
        ),
      );
      const failed = failures.find((e) => e !== undefined);
      if (failed) throw new SegmentError('segment.io_error', `syncing telemetry segments failed: ${failed.message}`, { cause: failed });
    } finally {
      this.syncing = undefined;
    }
  }

  private openForAppend(tenant: string, signal: Signal, name: string, key: string): OpenSegment {
    const dir = join(this.root, tenant, signal);
    if (existsSync(this.manifestPath(tenant, signal, name))) {
      throw new SegmentError('segment.sealed', `segment ${key} is sealed; records are appended to the current hour only`);
    }
    let fd: number;
    let created = false;
    try {
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        created = true;
      }
      const path = this.path(tenant, signal, name);
      created ||= !existsSync(path);
      fd = openSync(path, 'a+');
      // A new file's directory entry must be durable too, or a crash loses the whole file.
      if (created) syncDirectories(this.root, [tenant, signal]);
    } catch (cause) {
      throw new SegmentError('segment.io_error', `cannot open segment ${key} for appending: ${(cause as Error).message}`, { cause });
    }
    const { size, lastReceivedAt } = repairTail(fd);
    const seg = { fd, size, lastReceivedAt, dirty: false };
    this.open.set(key, seg);
    return seg;
  }

  /** Bytes in a segment file now (0 when it does not exist). */
  size(tenant: string, signal: Signal, name: string): number {
    const seg = this.open.get(`${tenant}/${signal}/${name}`);
    if (seg) return seg.size;
    try {
      return statSync(this.path(tenant, signal, name)).size;
    } catch {
      return 0;
    }
  }

  /** Reads the record whose frame starts at `offset` (in the segment of `hour` written by `replica`, none: the one-service layout). */
  async readRecord(tenant: string, segment: { signal: Signal; hour: string; replica?: string }, offset: number): Promise<StoredRecord> {
    const id = segmentId(segment.signal, segmentName(segment.hour, segment.replica));
    const file = await open(this.path(tenant, segment.signal, segmentName(segment.hour, segment.replica)), 'r');
    try {
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      const { bytesRead } = await file.read(header, 0, FRAME_HEADER_BYTES, offset);
      if (bytesRead !== FRAME_HEADER_BYTES) throw new SegmentError('segment.corrupt', `no record at offset ${offset} of ${id}`);
      const h = decodeFrameHeader(header);
      const payload = Buffer.allocUnsafe(h.length);
      await file.read(payload, 0, h.length, offset + FRAME_HEADER_BYTES);
      if (!frameIsIntact(h, payload)) throw new SegmentError('segment.corrupt', `record at offset ${offset} of ${id} fails its checksum`);
      return { offset, receivedAtMs: h.receivedAtMs, items: h.items, length: h.length, payload };
    } finally {
      await file.close();
    }
  }

  /**
   * Streams a segment's records in file order. Stops at the first torn or corrupt frame (the
   * tail of a segment still being written after a crash) and reports it to the logger.
   */
  async *records(tenant: string, signal: Signal, name: string, options: { withPayload?: boolean; fromOffset?: number } = {}): AsyncGenerator<StoredRecord> {
    const withPayload = options.withPayload ?? true;
    const path = this.path(tenant, signal, name);
    let file;
    try {
      file = await open(path, 'r');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SegmentError('segment.io_error', `cannot open ${signal}/${name}: ${(cause as Error).message}`, { cause });
    }
    try {
      const size = (await file.stat()).size;
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      for (let at = options.fromOffset ?? 0; at + FRAME_HEADER_BYTES <= size; ) {
        await file.read(header, 0, FRAME_HEADER_BYTES, at);
        const h = decodeFrameHeader(header);
        if (at + FRAME_HEADER_BYTES + h.length > size) {
          this.logger?.warn({ tenant_id: tenant, details: { segment: `${signal}/${name}`, offset: at } }, 'segment ends in a torn record; reading stops there');
          return;
        }
        let payload = EMPTY;
        if (withPayload) {
          payload = Buffer.allocUnsafe(h.length);
          await file.read(payload, 0, h.length, at + FRAME_HEADER_BYTES);
          if (!frameIsIntact(h, payload)) throw new SegmentError('segment.corrupt', `record at offset ${at} of ${signal}/${name} fails its checksum`);
        }
        yield { offset: at, receivedAtMs: h.receivedAtMs, items: h.items, length: h.length, payload };
        at += FRAME_HEADER_BYTES + h.length;
      }
    } finally {
      await file.close();
    }
  }

  /** Tenants with a folder in the store. */
  async tenants(): Promise<string[]> {
    return (await readdir(this.root, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  }

  /** A tenant's segments of one signal (every replica's), oldest hour first. */
  async segments(tenant: string, signal: Signal): Promise<SegmentInfo[]> {
    const dir = join(this.root, tenant, signal);
    const files = await readdir(dir).catch(() => [] as string[]);
    const sealed = new Set(files.filter((n) => n.endsWith('.manifest.json')).map((n) => n.slice(0, -'.manifest.json'.length)));
    const out: SegmentInfo[] = [];
    for (const file of files) {
      if (!file.endsWith('.seg')) continue;
      const name = file.slice(0, -4);
      const parsed = parseSegmentName(name);
      if (!parsed) continue;
      out.push({ tenant, signal, name, ...parsed, path: join(dir, file), sealed: sealed.has(name) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The segments of `signal` whose hour overlaps [fromMs, toMs). */
  async segmentsInWindow(tenant: string, signal: Signal, fromMs: number, toMs: number): Promise<SegmentInfo[]> {
    return (await this.segments(tenant, signal)).filter((s) => {
      const start = hourStart(s.hour);
      return start < toMs && start + HOUR_MS > fromMs;
    });
  }

  /**
   * Seals every segment of this store's own of an hour before `nowMs`'s — and another
   * replica's whose hour ended at least `foreignSealGraceMs` ago — : sync, close, write the
   * chunk manifest (atomically, via rename). Returns the manifests written.
   */
  async sealBefore(nowMs: number): Promise<SegmentManifest[]> {
    const current = hourKey(nowMs);
    const sealed: SegmentManifest[] = [];
    for (const tenant of await this.tenants()) {
      for (const signal of ['traces', 'metrics', 'logs'] as const) {
        for (const seg of await this.segments(tenant, signal)) {
          if (seg.sealed || seg.hour >= current) continue;
          if (!this.owns(seg) && hourStart(seg.hour) + HOUR_MS + this.foreignSealGraceMs > nowMs) continue;
          sealed.push(await this.seal(tenant, signal, seg.name));
        }
      }
    }
    return sealed;
  }

  /** Seals one segment (closing it for appends) and returns its manifest. */
  async seal(tenant: string, signal: Signal, name: string): Promise<SegmentManifest> {
    const key = `${tenant}/${signal}/${name}`;
    const seg = this.open.get(key);
    if (seg) {
      fsyncSync(seg.fd);
      closeSync(seg.fd);
      this.open.delete(key);
    }
    const manifest = await this.rebuildManifest(tenant, signal, name);
    const target = this.manifestPath(tenant, signal, name);
    // Unique per writer: two replicas sealing one segment at once each rename a whole file.
    const partial = `${target}.${process.pid}.partial`;
    await writeFile(partial, serializeSegmentManifest(manifest), { mode: 0o644 });
    await rename(partial, target);
    return manifest;
  }

  /** Rebuilds a sealed segment's manifest from its bytes (identical to the stored one unless the segment changed). */
  rebuildManifest(tenant: string, signal: Signal, name: string): Promise<SegmentManifest> {
    const parsed = parseSegmentName(name);
    if (!parsed) return Promise.reject(new SegmentError('segment.corrupt', `"${name}" is not a segment name`));
    return buildSegmentManifest(this.path(tenant, signal, name), tenant, signal, parsed.hour);
  }

  /**
   * Removes a segment and its manifest (retention). Another replica's segment is removed only
   * once sealed: until then its writer may still append to it.
   */
  async remove(tenant: string, signal: Signal, name: string): Promise<number> {
    const parsed = parseSegmentName(name);
    if (parsed && !this.owns(parsed) && !existsSync(this.manifestPath(tenant, signal, name))) {
      throw new SegmentError('segment.not_sealed', `segment ${tenant}/${signal}/${name} belongs to replica ${parsed.replica} and is not sealed; it is not removed`);
    }
    const key = `${tenant}/${signal}/${name}`;
    const seg = this.open.get(key);
    if (seg) {
      closeSync(seg.fd);
      this.open.delete(key);
    }
    const path = this.path(tenant, signal, name);
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    await rm(path, { force: true });
    await rm(this.manifestPath(tenant, signal, name), { force: true });
    return size;
  }

  /** Syncs and closes every open segment (shutdown). */
  close(): void {
    for (const seg of this.open.values()) {
      try {
        fsyncSync(seg.fd);
        closeSync(seg.fd);
      } catch (error) {
        this.logger?.error({ err: error }, 'closing a segment failed');
      }
    }
    this.open.clear();
  }
}

const EMPTY = Buffer.alloc(0);

/** fsyncs `root` and each nested directory of `path` below it (after creating an entry in them). */
function syncDirectories(root: string, path: string[]): void {
  let dir = root;
  const dirs = [root];
  for (const part of path) dirs.push((dir = join(dir, part)));
  for (const d of dirs) {
    const fd = openSync(d, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Finds the end of the last whole record and cuts anything after it (a crash mid-append). */
function repairTail(fd: number): { size: number; lastReceivedAt: number } {
  const size = fstatSync(fd).size;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  let at = 0;
  let lastReceivedAt = 0;
  while (at + FRAME_HEADER_BYTES <= size) {
    readSync(fd, header, 0, FRAME_HEADER_BYTES, at);
    const h = decodeFrameHeader(header);
    const end = at + FRAME_HEADER_BYTES + h.length;
    if (end > size) break;
    const payload = Buffer.allocUnsafe(h.length);
    readSync(fd, payload, 0, h.length, at + FRAME_HEADER_BYTES);
    if (!frameIsIntact(h, payload)) break;
    lastReceivedAt = h.receivedAtMs;
    at = end;
  }
  if (at !== size) ftruncateSync(fd, at);
  return { size: at, lastReceivedAt };
}
