/**
 * Streams a stored bundle as the forensics library's deterministic tar (regular files, mode
 * 0644, uid/gid 0, one mtime = the manifest's createdAt, entries sorted by UTF-8 path bytes,
 * two zero blocks at the end), so the archive a client downloads is byte-for-byte the one
 * `buildEvidenceBundle` would have written and `stella forensic verify` accepts. The header
 * writer is the forensics library's own, so the two can never drift apart.
 */
import { Readable } from 'node:stream';
import { END_OF_ARCHIVE, TAR_BLOCK, compareTarPaths, tarHeader, tarPadding } from '@stellaops/forensics';

export interface ArchiveEntry {
  /** Path inside the bundle (`files/...`, `manifest.json`, ...). */
  path: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** The tar as a stream; entries are read one at a time, never all in memory. */
export function bundleArchive(entries: readonly ArchiveEntry[], createdAt: string): Readable {
  const mtime = Math.floor(new Date(createdAt).getTime() / 1000);
  const sorted = [...entries].sort((a, b) => compareTarPaths(a.path, b.path));
  async function* generate(): AsyncGenerator<Buffer> {
    for (const entry of sorted) {
      yield tarHeader(entry.path, entry.size, mtime);
      let written = 0;
      for await (const chunk of await entry.open()) {
        written += chunk.byteLength;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      if (written !== entry.size) throw new Error(`${entry.path} changed size while archiving (${written} of ${entry.size} bytes)`);
      const pad = tarPadding(written);
      if (pad) yield Buffer.alloc(pad);
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(generate(), { objectMode: false });
}

/** Archive size in bytes, for Content-Length. */
export function archiveSize(entries: readonly { size: number }[]): number {
  return entries.reduce((n, e) => n + TAR_BLOCK + e.size + tarPadding(e.size), 0) + END_OF_ARCHIVE.length;
}
