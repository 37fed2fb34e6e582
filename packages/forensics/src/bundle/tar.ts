import { ForensicsError } from '../errors.js';

/**
 * The deterministic POSIX ustar subset bundles use: regular files only, mode 0644, uid/gid 0,
 * empty user/group names, one mtime for every entry, entries sorted by UTF-8 path bytes, zero
 * padding, and exactly two zero blocks at the end. Any tar tool extracts it; and because the
 * writer admits only one encoding per (path, size, mtime), the reader can insist on it, so every
 * byte of the archive is accounted for — a flipped byte anywhere is detected, not just in content.
 */

export const BLOCK = 512;
/** 11 octal digits. */
export const MAX_ENTRY_SIZE = 8 ** 11 - 1;
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function isZero(b: Buffer): boolean {
  return b.equals(ZERO_BLOCK.subarray(0, b.length));
}

/**
 * Orders paths the way the archive and the manifest do: by UTF-8 bytes. UTF-8 byte order is
 * code point order, which is UTF-16 code unit order wherever the first difference is between
 * two characters outside the surrogate range — compared here without encoding anything; a
 * difference at a surrogate is settled by the bytes themselves.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x & 0xf800) === 0xd800 || (y & 0xf800) === 0xd800) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** ustar name/prefix split: the name field holds 100 bytes, the prefix 155 more before a '/'. */
function splitName(path: string): { name: Buffer; prefix: Buffer } {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length <= 100) return { name: bytes, prefix: Buffer.alloc(0) };
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x2f) continue;
    const prefix = bytes.subarray(0, i);
    const name = bytes.subarray(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
  }
  throw new ForensicsError('invalid_path', `path too long for a ustar archive (max 255 bytes, split at a "/"): ${path}`);
}

/** The fields every canonical header shares (mode, owner, type, magic), with an empty checksum field. */
const TEMPLATE = (() => {
  const h = Buffer.alloc(BLOCK);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.fill(0x20, 148, 156);
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(octal(0, 8), 329, 'ascii');
  h.write(octal(0, 8), 337, 'ascii');
  return h;
})();
const TEMPLATE_SUM = TEMPLATE.reduce((sum, b) => sum + b, 0);

/** Writes the octal digits of `value` (zero-padded to width - 1, then NUL) at `at`; returns their byte sum. */
function putOctal(h: Buffer, at: number, value: number, width: number): number {
  let sum = 0;
  let v = value;
  for (let i = width - 2; i >= 0; i--) {
    const c = 0x30 + (v % 8);
    h[at + i] = c;
    sum += c;
    v = Math.floor(v / 8);
  }
  h[at + width - 1] = 0;
  return sum;
}

/**
 * Writes the single canonical header for a regular file into `target` at `offset` (512 bytes),
 * without allocating: the shared fields come from a template, the checksum is summed as the
 * variable fields are written.
 */
export function writeTarHeader(target: Buffer, offset: number, path: string, size: number, mtimeSeconds: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ENTRY_SIZE) {
    throw new ForensicsError('invalid_argument', `file ${path} is too large for a ustar entry (max 8 GiB - 1)`);
  }
  TEMPLATE.copy(target, offset);
  let sum = TEMPLATE_SUM;
  if (Buffer.byteLength(path, 'utf8') <= 100) {
    // The common case: the whole path in the name field, encoded in place.
    const n = target.write(path, offset, 'utf8');
    for (let i = offset; i < offset + n; i++) sum += target[i]!;
  } else {
    const { name, prefix } = splitName(path);
    for (let i = 0; i < name.length; i++) sum += target[offset + i] = name[i]!;
    for (let i = 0; i < prefix.length; i++) sum += target[offset + 345 + i] = prefix[i]!;
  }
  sum += putOctal(target, offset + 124, size, 12);
  sum += putOctal(target, offset + 136, mtimeSeconds, 12);
  // Six octal digits, NUL, space: the checksum as GNU and POSIX tar write it.
  for (let i = 5; i >= 0; i--) {
    target[offset + 148 + i] = 0x30 + (sum % 8);
    sum = Math.floor(sum / 8);
  }
  target[offset + 154] = 0;
  target[offset + 155] = 0x20;
}

/** The single canonical header for a regular file. */
export function tarHeader(path: string, size: number, mtimeSeconds: number): Buffer {
  const h = Buffer.allocUnsafe(BLOCK);
  writeTarHeader(h, 0, path, size, mtimeSeconds);
  return h;
}

export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export interface TarEntryHeader {
  readonly path: string;
  readonly size: number;
  readonly mtimeSeconds: number;
}

/** Receives one entry's bytes in order. */
export interface TarEntrySink {
  write(chunk: Buffer): void;
  end(): void;
}

export type TarProblemCode =
  | 'archive_malformed'
  | 'archive_noncanonical'
  | 'entry_directory'
  | 'entry_symlink'
  | 'entry_hardlink'
  | 'entry_special'
  | 'entry_duplicate'
  | 'path_unsafe';
export type TarProblem = { readonly code: TarProblemCode; readonly message: string; readonly path?: string };

/** Why a tar entry type is not allowed in a bundle (bundles hold regular files only), or undefined for a regular file. */
function entryTypeProblem(type: number, path: string): TarProblem | undefined {
  switch (type) {
    case 0x30:
    case 0:
      return undefined;
    case 0x35:
      return { code: 'entry_directory', message: `${path} is a directory entry; a bundle archive holds regular files only`, path };
    case 0x32:
      return { code: 'entry_symlink', message: `${path} is a symbolic link; a bundle archive holds regular files only`, path };
    case 0x31:
      return { code: 'entry_hardlink', message: `${path} is a hard link; a bundle archive holds regular files only`, path };
    case 0x33:
    case 0x34:
      return { code: 'entry_special', message: `${path} is a device file; a bundle archive holds regular files only`, path };
    case 0x36:
      return { code: 'entry_special', message: `${path} is a FIFO; a bundle archive holds regular files only`, path };
    case 0x78:
    case 0x67:
    case 0x4c:
    case 0x4b:
      return { code: 'entry_special', message: `${path} is a pax or GNU extension header (type ${String.fromCharCode(type)}); a bundle archive has none`, path };
    default:
      return { code: 'entry_special', message: `${path} has entry type ${JSON.stringify(String.fromCharCode(type))}, not a regular file`, path };
  }
}

/** Why an entry path could escape or alias inside an extraction directory, or undefined when it is safe. */
function pathProblem(path: string): TarProblem | undefined {
  const bad = (why: string): TarProblem => ({ code: 'path_unsafe', message: `entry path ${JSON.stringify(path)} ${why}`, path });
  if (path.startsWith('/')) return bad('is absolute');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return bad('holds control characters or backslashes');
  const segments = (path.endsWith('/') ? path.slice(0, -1) : path).split('/');
  if (segments.some((s) => s === '..')) return bad('has a ".." segment');
  if (segments.some((s) => s === '' || s === '.')) return bad('has an empty or "." segment');
  return undefined;
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

/**
 * An octal field: digits, then NULs or spaces to its end (undefined for anything else). Bytes
 * are read as 7-bit ASCII (high bit cleared, as Node's 'ascii' decoding does), the way this
 * reader has always read them; the canonical-header check then refuses any such byte anyway.
 */
function parseOctal(h: Buffer, start: number, len: number): number | undefined {
  let end = start + len;
  while (end > start && ((h[end - 1]! & 0x7f) === 0 || (h[end - 1]! & 0x7f) === 0x20)) end--;
  if (end === start) return undefined;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = h[i]! & 0x7f;
    if (c < 0x30 || c > 0x37) return undefined;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/**
 * Streams a bundle tar, handing each entry's bytes to the sink `onEntry` returns (no entry is
 * buffered here). Returns the problems found; parsing stops at the first malformed header since
 * nothing after it can be located reliably.
 */
export async function readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onEntry: (header: TarEntryHeader) => TarEntrySink,
): Promise<TarProblem[]> {
  const problems: TarProblem[] = [];
  /** The canonical header of the entry at hand, rebuilt here to compare (one buffer for all). */
  const expected = Buffer.allocUnsafe(BLOCK);
  let pending: Buffer = Buffer.alloc(0);
  let sink: TarEntrySink | undefined;
  let remaining = 0; // content bytes left in the current entry
  let padding = 0; // padding bytes left after it
  let zeroBlocks = 0;
  let previousPath: string | undefined;
  const seen = new Set<string>();
  let stopped = false;
  let trailing = false;

  const malformed = (message: string): void => {
    problems.push({ code: 'archive_malformed', message });
    stopped = true;
  };

  const onHeader = (h: Buffer): void => {
    if (isZero(h)) {
      zeroBlocks++;
      return;
    }
    if (zeroBlocks > 0) {
      if (zeroBlocks >= 2) trailing = true;
      else malformed('a lone zero block inside the archive');
      return;
    }
    const size = parseOctal(h, 124, 12);
    const mtime = parseOctal(h, 136, 12);
    const prefix = field(h, 345, 155);
    const name = field(h, 0, 100);
    const path = prefix ? `${prefix}/${name}` : name;
    // The header the writer would have made for this entry; when it is this one, its checksum
    // is right by construction and the byte-by-byte sum below is not needed.
    let canonical = false;
    if (size !== undefined && mtime !== undefined) {
      try {
        writeTarHeader(expected, 0, path, size, mtime);
        canonical = expected.equals(h);
      } catch {
        canonical = false;
      }
    }
    if (!canonical) {
      const stored = parseOctal(h, 148, 8);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
      if (stored === undefined || stored !== sum) return malformed('header checksum mismatch (corrupted header)');
    }
    if (size === undefined || mtime === undefined) return malformed('unreadable size or mtime field');
    // Entries that may not be in a bundle at all: named reason and path, bytes skipped.
    const typed = entryTypeProblem(h[156]!, path) ?? pathProblem(path);
    const duplicate = seen.has(path);
    seen.add(path);
    if (typed) {
      problems.push(typed);
      sink = undefined;
    } else if (duplicate) {
      problems.push({ code: 'entry_duplicate', message: `${path} appears more than once in the archive`, path });
      sink = undefined;
    } else {
      if (!canonical) {
        problems.push({ code: 'archive_noncanonical', message: `entry header for ${path} is not the canonical form (mode, owner, layout or field encoding differ)`, path });
      }
      if (previousPath !== undefined && comparePaths(previousPath, path) > 0) {
        problems.push({ code: 'archive_noncanonical', message: `entry ${path} is out of order after ${previousPath}`, path });
      }
      sink = onEntry({ path, size, mtimeSeconds: mtime });
    }
    previousPath = path;
    remaining = size;
    padding = paddingFor(size);
    if (remaining === 0) {
      sink?.end();
      sink = undefined;
    }
  };

  for await (const raw of source) {
    if (stopped) break;
    let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length > 0 && !stopped) {
      if (trailing) {
        problems.push({ code: 'archive_noncanonical', message: 'data after the end-of-archive marker' });
        stopped = true;
        break;
      }
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length);
        sink?.write(chunk.subarray(0, take));
        chunk = chunk.subarray(take);
        remaining -= take;
        if (remaining === 0) {
          sink?.end();
          sink = undefined;
        }
        continue;
      }
      if (padding > 0) {
        const take = Math.min(padding, chunk.length);
        if (!isZero(chunk.subarray(0, take))) {
          problems.push({ code: 'archive_noncanonical', message: 'non-zero bytes in entry padding', ...(previousPath ? { path: previousPath } : {}) });
        }
        chunk = chunk.subarray(take);
        padding -= take;
        continue;
      }
      if (zeroBlocks >= 2) {
        trailing = true;
        continue;
      }
      const need = BLOCK - pending.length;
      const take = Math.min(need, chunk.length);
      pending = pending.length === 0 && take === BLOCK ? chunk.subarray(0, BLOCK) : Buffer.concat([pending, chunk.subarray(0, take)]);
      chunk = chunk.subarray(take);
      if (pending.length === BLOCK) {
        const header = pending;
        pending = Buffer.alloc(0);
        onHeader(header);
      }
    }
  }
  if (!stopped) {
    if (remaining > 0 || padding > 0 || pending.length > 0) malformed('archive is truncated');
    else if (zeroBlocks < 2) problems.push({ code: zeroBlocks === 0 && previousPath === undefined ? 'archive_malformed' : 'archive_noncanonical', message: zeroBlocks === 0 && previousPath === undefined ? 'empty archive' : 'archive is truncated (end-of-archive marker missing)' });
  }
  if (sink) sink.end();
  return problems;
}
