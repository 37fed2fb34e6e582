import * as zlib from 'node:zlib';

/**
 * The gzip wrapper of a `.tar.gz` bundle (forensic captures ship that way). Gzip is transport
 * compression, not part of what is signed: the verifier inflates it and holds the tar inside to
 * the canonical form. The wrapper itself is held to one form where it can be:
 *
 * - exactly this 10-byte header: magic, deflate, no flags (no name, comment, extra field or
 *   header CRC), modification time 0, XFL 0, OS 3 — what the service writes;
 * - exactly one member, and nothing after its 8-byte trailer;
 * - the trailer's CRC-32 and length match the inflated bytes.
 *
 * What cannot be held to one form is the deflate stream itself: many bit streams inflate to the
 * same bytes (another compression level, or the unused padding bits of a stored block or of the
 * final byte). Such a stream is accepted exactly when it inflates to the canonical tar — the
 * signed bytes are then the same; what the signature proves is the tar, not its compression.
 */
export const GZIP_HEADER = Buffer.from('1f8b0800000000000003', 'hex');

export interface GzipProblem {
  readonly code: 'archive_compression_invalid';
  readonly message: string;
}

let crcTable: Int32Array | undefined;
function crc32(data: Buffer, value: number): number {
  const native = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;
  if (native) return native(data, value);
  // Node < 20.15: table-driven CRC-32 (IEEE), as gzip uses.
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function headerProblem(header: Buffer): string | undefined {
  if (header.length < 10) return 'the file is shorter than a gzip header';
  if (header[0] !== 0x1f || header[1] !== 0x8b) return 'not gzip (bad magic)';
  if (header[2] !== 8) return `compression method ${header[2]} is not deflate`;
  if (header[3] !== 0) return `the gzip header has flags 0x${header[3]!.toString(16)} (a file name, comment, extra field or header CRC); the accepted header has none`;
  if (header.readUInt32LE(4) !== 0) return 'the gzip header carries a modification time; the accepted header has 0';
  if (header[8] !== 0 || header[9] !== 3) return `the gzip header has XFL ${header[8]} and OS ${header[9]}; the accepted header has 0 and 3`;
  return undefined;
}

/**
 * Inflates a `.tar.gz` read from `source`, yielding the tar's bytes as they come; problems with
 * the wrapper are reported through `onProblem` (after which nothing more is yielded).
 */
export async function* gunzipCanonical(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, onProblem: (p: GzipProblem) => void): AsyncGenerator<Buffer> {
  const problem = (message: string): void => onProblem({ code: 'archive_compression_invalid', message });
  const it = (Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : (source as Iterable<Uint8Array>)[Symbol.iterator]()) as
    | AsyncIterator<Uint8Array>
    | Iterator<Uint8Array>;
  let head = Buffer.alloc(0);
  while (head.length < GZIP_HEADER.length) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)]);
  }
  const bad = headerProblem(head);
  if (bad) {
    problem(bad);
    return;
  }
  let total = head.length;
  let tail: Buffer = head.subarray(head.length - Math.min(8, head.length - GZIP_HEADER.length));
  const inflate = zlib.createInflateRaw();
  let feedError: Error | undefined;
  const feed = (async () => {
    try {
      const write = async (chunk: Buffer): Promise<void> => {
        if (chunk.length === 0) return;
        if (!inflate.write(chunk)) {
          await new Promise<void>((resolve) => {
            inflate.once('drain', resolve);
            inflate.once('close', resolve);
          });
        }
      };
      await write(head.subarray(GZIP_HEADER.length));
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        total += chunk.length;
        tail = chunk.length >= 8 ? chunk.subarray(chunk.length - 8) : Buffer.concat([tail, chunk]).subarray(-8);
        if (inflate.destroyed) break;
        await write(chunk);
      }
    } catch (err) {
      feedError = err as Error;
    } finally {
      inflate.end();
    }
  })();
  let crc = 0;
  let size = 0;
  try {
    for await (const out of inflate) {
      const b = out as Buffer;
      crc = crc32(b, crc);
      size += b.length;
      yield b;
    }
  } catch (err) {
    await feed;
    problem(`the deflate stream is corrupt: ${(err as Error).message}`);
    return;
  }
  await feed;
  if (feedError) throw feedError;
  const consumed = inflate.bytesWritten;
  const after = total - GZIP_HEADER.length - consumed;
  if (after < 8) return problem('the gzip trailer (CRC-32 and length) is missing or truncated');
  if (after > 8) return problem(`${after - 8} bytes follow the gzip member (a second member or appended data); the accepted file has exactly one member`);
  if (tail.readUInt32LE(0) !== crc >>> 0) return problem('the gzip CRC-32 does not match the inflated bytes');
  if (tail.readUInt32LE(4) !== size % 2 ** 32) return problem('the gzip length field does not match the inflated bytes');
}

/** Whether a file starts like gzip (a tar cannot: its first byte begins an entry name). */
export function isGzipMagic(first: Uint8Array): boolean {
  return first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
}
