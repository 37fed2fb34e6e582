/**
 * Minimal protobuf wire decoder for the parts of OTLP export requests the tests look at
 * (opentelemetry-proto: collector/trace/v1, collector/logs/v1, common/v1, resource/v1).
 * Decoding by field numbers keeps the test independent of the SDK's own serializer.
 */
type Field = number | Buffer;
type Message = Map<number, Field[]>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

export function decodeMessage(buf: Buffer): Message {
  const out: Message = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Field;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      value = buf.subarray(p2, p2 + len);
      pos = p2 + len;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const msgs = (m: Message, field: number): Message[] => (m.get(field) ?? []).map((v) => decodeMessage(v as Buffer));
const str = (m: Message, field: number): string | undefined => (m.get(field)?.[0] as Buffer | undefined)?.toString('utf8');
const hex = (m: Message, field: number): string | undefined => (m.get(field)?.[0] as Buffer | undefined)?.toString('hex');

function anyValue(m: Message): unknown {
  if (m.has(1)) return str(m, 1);
  if (m.has(2)) return m.get(2)![0] === 1;
  if (m.has(3)) return m.get(3)![0];
  if (m.has(4)) return (m.get(4)![0] as Buffer).readDoubleLE(0);
  if (m.has(5)) return msgs(msgs(m, 5)[0]!, 1).map((v) => anyValue(v));
  if (m.has(6)) return attributes(msgs(m, 6)[0]!, 1);
  return undefined;
}

function attributes(m: Message, field: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of msgs(m, field)) out[str(kv, 1)!] = kv.has(2) ? anyValue(msgs(kv, 2)[0]!) : undefined;
  return out;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

export function decodeTraces(body: Buffer): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  for (const rs of msgs(decodeMessage(body), 1)) {
    const resource = rs.has(1) ? attributes(msgs(rs, 1)[0]!, 1) : {};
    for (const ss of msgs(rs, 2)) {
      for (const span of msgs(ss, 2)) {
        out.push({ traceId: hex(span, 1)!, spanId: hex(span, 2)!, name: str(span, 5)!, attributes: attributes(span, 9), resource });
      }
    }
  }
  return out;
}

export interface DecodedLog {
  severityNumber: number;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId?: string;
  resource: Record<string, unknown>;
}

export function decodeLogs(body: Buffer): DecodedLog[] {
  const out: DecodedLog[] = [];
  for (const rl of msgs(decodeMessage(body), 1)) {
    const resource = rl.has(1) ? attributes(msgs(rl, 1)[0]!, 1) : {};
    for (const sl of msgs(rl, 2)) {
      for (const rec of msgs(sl, 2)) {
        out.push({
          severityNumber: (rec.get(2)?.[0] as number | undefined) ?? 0,
          body: rec.has(5) ? anyValue(msgs(rec, 5)[0]!) : undefined,
          attributes: attributes(rec, 6),
          traceId: rec.has(9) ? hex(rec, 9) : undefined,
          resource,
        });
      }
    }
  }
  return out;
}

/** Metric names in an ExportMetricsServiceRequest. */
export function decodeMetricNames(body: Buffer): string[] {
  const out: string[] = [];
  for (const rm of msgs(decodeMessage(body), 1)) for (const sm of msgs(rm, 2)) for (const m of msgs(sm, 2)) out.push(str(m, 1)!);
  return out;
}
