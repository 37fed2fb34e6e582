/**
 * One record in a segment file: a 20-byte header, then the record bytes (an OTLP
 * Export*ServiceRequest, as received after scrubbing). Big-endian, fixed layout, so a third
 * party can read a segment without our code:
 *
 *   u32 payload length | u32 CRC-32 of payload | f64 receive time (ms since epoch) | u32 item count
 *
 * The CRC lets a reader tell a torn tail (crash mid-append) from data.
 */
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 20;

export interface FrameHeader {
  length: number;
  crc: number;
  receivedAtMs: number;
  items: number;
}

export function encodeFrameHeader(payload: Uint8Array, receivedAtMs: number, items: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.byteLength, 0);
  header.writeUInt32BE(crc32(payload), 4);
  header.writeDoubleBE(receivedAtMs, 8);
  header.writeUInt32BE(items, 16);
  return header;
}

export function decodeFrameHeader(buf: Uint8Array, offset = 0): FrameHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_BYTES);
  return { length: b.readUInt32BE(0), crc: b.readUInt32BE(4), receivedAtMs: b.readDoubleBE(8), items: b.readUInt32BE(16) };
}

export function frameIsIntact(header: FrameHeader, payload: Uint8Array): boolean {
  return payload.byteLength === header.length && crc32(payload) === header.crc;
}
