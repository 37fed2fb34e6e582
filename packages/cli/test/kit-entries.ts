/** The Offline Kit tests read a built kit back entry by entry. */
import { gunzipSync } from 'node:zlib';
import { tarPadding } from '@stellaops/forensics';

/** The entries of a kit (.tar.gz), by path, in archive order. */
export function kitEntries(gz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(gz);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const h = tar.subarray(at, at + 512);
    const field = (from: number, len: number): string => h.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12), 8);
    const prefix = field(345, 155);
    out.set(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100), tar.subarray(at + 512, at + 512 + size));
    at += 512 + size + tarPadding(size);
  }
  return out;
}
