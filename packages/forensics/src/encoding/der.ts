/**
 * A strict DER reader and writer for the few structures this library checks byte by byte
 * (ECDSA signatures, RFC 3161 tokens). Strict means: single-byte tags (all this library needs),
 * definite lengths in their shortest form, and no bytes after the outer element. BER leniency
 * (indefinite or padded lengths) is how one value gets several encodings, so it is refused.
 */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface Tlv {
  readonly tag: number;
  /** The whole element (header and content). */
  readonly raw: Buffer;
  readonly content: Buffer;
}

/** Reads the element at `offset`; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len === 0x80) throw new DerError('indefinite length (BER, not DER)');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || offset + 2 + n > buf.length) throw new DerError('unsupported or truncated length');
    if (buf[offset + 2] === 0) throw new DerError('length with leading zero bytes (not DER)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (len < 0x80) throw new DerError('long-form length for a short value (not DER)');
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw new DerError('element runs past the end of its container');
  return { tlv: { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + header, end) }, next: end };
}

/** Parses `buf` as exactly one element. */
export function parseDer(buf: Buffer): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new DerError('bytes after the end of the element');
  return tlv;
}

/** The elements inside a constructed element. */
export function children(tlv: Tlv): Tlv[] {
  if ((tlv.tag & 0x20) === 0) throw new DerError(`tag 0x${tlv.tag.toString(16)} is not constructed`);
  const out: Tlv[] = [];
  for (let at = 0; at < tlv.content.length; ) {
    const { tlv: child, next } = readTlv(tlv.content, at);
    out.push(child);
    at = next;
  }
  return out;
}

function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element from its tag and content parts. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

/** A non-negative INTEGER's content in minimal two's-complement form. */
export function integerContent(value: bigint): Buffer {
  if (value < 0n) throw new DerError('negative integers are not supported');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** Reads a non-negative INTEGER, insisting on its minimal encoding. */
export function readUnsignedInteger(t: Tlv): bigint {
  if (t.tag !== 0x02) throw new DerError('expected an INTEGER');
  const c = t.content;
  if (c.length === 0) throw new DerError('empty INTEGER');
  if (c[0]! & 0x80) throw new DerError('negative INTEGER');
  if (c.length > 1 && c[0] === 0 && !(c[1]! & 0x80)) throw new DerError('INTEGER with a superfluous leading zero (not DER)');
  return BigInt(`0x${c.toString('hex')}`);
}
