/**
 * STO-3: the deterministic chunk manifest of a sealed segment. The file is cut into fixed-size
 * chunks, each hashed with SHA-256; the manifest is RFC 8785 canonical JSON (the forensics
 * library's `jcs`; no time of sealing) computed from the bytes alone, so rebuilding it from the
 * same segment gives the same bytes and any change to a stored chunk is detectable and locatable.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { jcs } from '@stellaops/forensics';
import type { Signal } from './signal-records.js';
import { decodeFrameHeader, FRAME_HEADER_BYTES } from './segment-frame.js';
import { hourStart } from './segment-path.js';

export const SEGMENT_MANIFEST_FORMAT = 'stellaops.telemetry-segment/v1';
/** Chunk size in bytes; part of the format (a different size is a different manifest). */
export const CHUNK_BYTES = 1 << 20;

export interface SegmentManifest {
  format: typeof SEGMENT_MANIFEST_FORMAT;
  tenant: string;
  signal: Signal;
  /** Start of the segment's hour, ISO-8601 UTC. */
  hour: string;
  bytes: number;
  records: number;
  items: number;
  chunk_bytes: number;
  chunks: { index: number; offset: number; size: number; sha256: string }[];
  /** SHA-256 of the whole segment file. */
  sha256: string;
}

/** Reads the segment once and derives its manifest. */
export async function buildSegmentManifest(path: string, tenant: string, signal: Signal, hour: string): Promise<SegmentManifest> {
  const file = await open(path, 'r');
  try {
    const whole = createHash('sha256');
    const chunks: SegmentManifest['chunks'] = [];
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, CHUNK_BYTES, offset);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      whole.update(chunk);
      chunks.push({ index: chunks.length, offset, size: bytesRead, sha256: createHash('sha256').update(chunk).digest('hex') });
      offset += bytesRead;
    }
    // Records and items come from the frame headers alone (one small read per record).
    let records = 0;
    let items = 0;
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    for (let at = 0; at + FRAME_HEADER_BYTES <= offset; ) {
      await file.read(header, 0, FRAME_HEADER_BYTES, at);
      const h = decodeFrameHeader(header);
      records++;
      items += h.items;
      at += FRAME_HEADER_BYTES + h.length;
    }
    return {
      format: SEGMENT_MANIFEST_FORMAT,
      tenant,
      signal,
      hour: new Date(hourStart(hour)).toISOString(),
      bytes: offset,
      records,
      items,
      chunk_bytes: CHUNK_BYTES,
      chunks,
      sha256: whole.digest('hex'),
    };
  } finally {
    await file.close();
  }
}

export function serializeSegmentManifest(manifest: SegmentManifest): Buffer {
  return Buffer.from(`${jcs(manifest)}\n`, 'utf8');
}
