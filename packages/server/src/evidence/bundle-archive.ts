/**
 * Streams a stored bundle as the forensics library's deterministic tar (regular files, mode
 * 0644, uid/gid 0, one mtime = the manifest's createdAt, entries sorted by UTF-8 path bytes,
 * two zero blocks at the end), so the archive a client downloads is byte-for-byte the one
 * `buildEvidenceBundle` would have written and `stella forensic verify` accepts. The forensics
 * package keeps its tar writer internal; this is the same canonical header.
 */
import { Readable } from 'node:stream';

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function splitName(path: string): { name: Buffer; prefix: Buffer } {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length <= 100) return { name: bytes, prefix: Buffer.alloc(0) };
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x2f) continue;
    const prefix = bytes.subarray(0, i);
    const name = bytes.subarray(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`path too long for a ustar archive: ${path}`);
}

export function canonicalTarHeader(path: string, size: number, mtimeSeconds: number): Buffer {
  const { name, prefix } = splitName(path);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtimeSeconds, 12), 136, 'ascii');
  h.fill(0x20, 148, 156);
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(octal(0, 8), 329, 'ascii');
  h.write(octal(0, 8), 337, 'ascii');
  prefix.copy(h, 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export interface ArchiveEntry {
  /** Path inside the bundle (`files/...`, `manifest.json`, ...). */
  path: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** The tar as a stream; entries are read one at a time, never all in memory. */
export function bundleArchive(entries: readonly ArchiveEntry[], createdAt: string): Readable {
  const mtime = Math.floor(new Date(createdAt).getTime() / 1000);
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8')));
  async function* generate(): AsyncGenerator<Buffer> {
    for (const entry of sorted) {
      yield canonicalTarHeader(entry.path, entry.size, mtime);
      let written = 0;
      for await (const chunk of await entry.open()) {
        written += chunk.byteLength;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      if (written !== entry.size) throw new Error(`${entry.path} changed size while archiving (${written} of ${entry.size} bytes)`);
      const pad = (BLOCK - (written % BLOCK)) % BLOCK;
      if (pad) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false });
}

/** Archive size in bytes, for Content-Length. */
export function archiveSize(entries: readonly { size: number }[]): number {
  return entries.reduce((n, e) => n + BLOCK + Math.ceil(e.size / BLOCK) * BLOCK, 0) + BLOCK * 2;
}
