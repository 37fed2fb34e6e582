import { describe, expect, it } from 'vitest';
import { requestFromJson } from '../../src/otlp/otlp-proto.js';
import { decodeRequest, encodeRequest, type Signal } from '../../src/segments/signal-records.js';
import { OtlpError } from '../../src/otlp/otlp-error.js';
import { jsonCensus, protobufCensus, MAX_MESSAGE_DEPTH, type Census } from '../../src/otlp/request-census.js';
import { identicalSpanEntries, spanEntries, traceRequest } from './otlp-bodies.js';

const NO_LIMIT = { maxItems: 1e9, maxValues: 1e9 };

const kv = (key: string, value: unknown) => ({ key, value });
const str = (s: string) => ({ stringValue: s });
const id = (hex: string) => Buffer.from(hex, 'hex');

const TRACES = {
  resourceSpans: [
    {
      resource: { attributes: [kv('service.name', str('svc')), kv('host', str('h1'))] },
      scopeSpans: [
        {
          scope: { name: 'lib', version: '1', attributes: [kv('s', str('x'))] },
          spans: [
            {
              traceId: id('11'.repeat(16)),
              spanId: id('22'.repeat(8)),
              name: 'root',
              kind: 2,
              startTimeUnixNano: 1,
              endTimeUnixNano: 2,
              attributes: [kv('a', str('1')), kv('nested', { arrayValue: { values: [str('x'), { kvlistValue: { values: [kv('k', { intValue: 5 })] } }] } })],
              events: [{ timeUnixNano: 1, name: 'ev', attributes: [kv('e', str('1'))] }],
              links: [{ traceId: id('33'.repeat(16)), spanId: id('44'.repeat(8)), attributes: [kv('l', str('1'))] }],
              status: { code: 2, message: 'bad' },
            },
            { traceId: id('11'.repeat(16)), spanId: id('55'.repeat(8)), parentSpanId: id('22'.repeat(8)), name: 'child', kind: 1 },
          ],
        },
      ],
    },
  ],
};

const LOGS = {
  resourceLogs: [
    {
      resource: { attributes: [kv('service.name', str('svc'))] },
      scopeLogs: [
        {
          scope: { name: 'lib' },
          logRecords: [
            { timeUnixNano: 1, severityNumber: 9, severityText: 'INFO', body: str('hello'), attributes: [kv('a', str('b'))], traceId: id('11'.repeat(16)), spanId: id('22'.repeat(8)) },
            { timeUnixNano: 2, body: { kvlistValue: { values: [kv('x', str('y')), kv('z', { boolValue: true })] } } },
            { timeUnixNano: 3 },
          ],
        },
      ],
    },
  ],
};

const METRICS = {
  resourceMetrics: [
    {
      resource: { attributes: [kv('service.name', str('svc'))], entityRefs: [{ type: 'service', idKeys: ['service.name', 'service.namespace'] }] },
      scopeMetrics: [
        {
          scope: { name: 'lib' },
          metrics: [
            { name: 'g', gauge: { dataPoints: [{ asDouble: 1.5, attributes: [kv('q', str('a'))], exemplars: [{ asInt: 3, filteredAttributes: [kv('f', str('1'))] }] }, { asInt: 2 }] } },
            { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asInt: 4 }] } },
            { name: 'h', histogram: { dataPoints: [{ count: 3, sum: 1, bucketCounts: [1, 1, 1], explicitBounds: [1, 2], attributes: [kv('r', str('/'))] }] } },
            { name: 'e', exponentialHistogram: { dataPoints: [{ count: 3, scale: 2, positive: { offset: 1, bucketCounts: [1, 2, 300] }, negative: { bucketCounts: [0] } }] } },
            { name: 'm', summary: { dataPoints: [{ count: 2, sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 1, value: 2 }] }] } },
            { name: 'meta', metadata: [kv('unit.note', str('x'))] },
          ],
        },
      ],
    },
  ],
};

/** Items and every object the decoder built (messages, and Longs in repeated fields), by walking the decoded request. */
function decodedCounts(signal: Signal, request: unknown): { items: number; objects: number } {
  let items = 0;
  let objects = 0;
  const ITEM_LISTS = new Set(['spans', 'logRecords', 'dataPoints']);
  const walk = (value: unknown, key: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) {
        if (ITEM_LISTS.has(key)) items++;
        else objects++;
        walk(v, '');
      }
      return;
    }
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    if ('low' in value && 'high' in value) return;
    for (const [k, v] of Object.entries(value)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !('low' in v)) objects++;
      walk(v, k);
    }
  };
  walk(request, '');
  void signal;
  return { items, objects };
}

function expectBounded(signal: Signal, census: Census, request: unknown): void {
  const decoded = decodedCounts(signal, request);
  expect(census.items).toBe(decoded.items);
  // A key and its value count once: every decoded object is within twice the census.
  expect(decoded.objects).toBeLessThanOrEqual(2 * (census.items + census.values) + 2);
}

describe('protobuf census', () => {
  for (const [signal, message] of [
    ['traces', TRACES],
    ['logs', LOGS],
    ['metrics', METRICS],
  ] as const) {
    it(`${signal}: counts what the decoder builds, without decoding`, () => {
      const bytes = encodeRequest(signal, message as never);
      const census = protobufCensus(signal, bytes, NO_LIMIT);
      expectBounded(signal, census, decodeRequest(signal, bytes));
    });
  }

  it('counts the traces fixture exactly: 2 spans; 10 attributes, values, events, links and blocks', () => {
    const census = protobufCensus('traces', encodeRequest('traces', TRACES as never), NO_LIMIT);
    // resourceSpans, resource, 2 resource attrs, scopeSpans, scope, 1 scope attr, 2 span attrs,
    // arrayValue, 2 array elements, kvlist, 1 kvlist attr, event + attr, link + attr, status.
    expect(census).toEqual({ items: 2, values: 19 });
  });

  it('counts repeated 64-bit numbers, packed or not, one value each', () => {
    const census = protobufCensus('metrics', encodeRequest('metrics', METRICS as never), NO_LIMIT);
    expect(census.items).toBe(6);
    const withoutBuckets = protobufCensus(
      'metrics',
      encodeRequest('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', histogram: { dataPoints: [{ bucketCounts: [] }] } }] }] }] } as never),
      NO_LIMIT,
    );
    const withBuckets = protobufCensus(
      'metrics',
      encodeRequest('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', histogram: { dataPoints: [{ bucketCounts: Array(1000).fill(1) }] } }] }] }] } as never),
      NO_LIMIT,
    );
    expect(withBuckets.values - withoutBuckets.values).toBe(1000);
  });

  it('stops at the item limit with 413 otlp.too_many_items naming the limit, before walking the rest', () => {
    const body = traceRequest(identicalSpanEntries(330_000));
    const started = performance.now();
    let error: unknown;
    try {
      protobufCensus('traces', body, { maxItems: 100_000, maxValues: 1e9 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OtlpError);
    expect((error as OtlpError).code).toBe('otlp.too_many_items');
    expect((error as OtlpError).httpStatus).toBe(413);
    expect((error as OtlpError).message).toMatch(/more than 100000 spans.*STELLA_OTLP_MAX_ITEMS_PER_REQUEST/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stops at the value limit with 413, naming STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST', () => {
    // One span with 10000 empty attributes: two bytes each on the wire, an object each decoded.
    const span = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.alloc(16, 1), Buffer.from([0x12, 8]), Buffer.alloc(8, 2), Buffer.alloc(20_000).fill(Buffer.from([0x4a, 0x00]))]);
    const body = traceRequest(Buffer.concat([Buffer.from([0x12]), varint(span.length), span]));
    expect(protobufCensus('traces', body, NO_LIMIT)).toMatchObject({ items: 1 });
    expect(protobufCensus('traces', body, NO_LIMIT).values).toBeGreaterThan(10_000);
    expect(() => protobufCensus('traces', body, { maxItems: 100, maxValues: 5000 })).toThrow(/more than 5000 attributes.*STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST/);
  });

  it('refuses as malformed: truncated bodies, wire types that disagree with the schema, absurd nesting', () => {
    const bytes = encodeRequest('traces', TRACES as never);
    const malformed = (body: Uint8Array): string => {
      try {
        protobufCensus('traces', body, NO_LIMIT);
      } catch (e) {
        return (e as OtlpError).code;
      }
      return 'ok';
    };
    expect(malformed(bytes.subarray(0, bytes.length - 3))).toBe('otlp.malformed_protobuf');
    // resourceSpans (field 1) sent as a varint: the decoder would read it as a length.
    expect(malformed(Buffer.from([0x08, 0x05]))).toBe('otlp.malformed_protobuf');
    // Span.attributes (field 9) as a varint inside an otherwise valid span.
    expect(malformed(traceRequest(Buffer.from([0x12, 0x02, 0x48, 0x01])))).toBe('otlp.malformed_protobuf');
    // Unknown fields of any wire type are skipped, as the decoder does.
    expect(malformed(Buffer.from([0xf8, 0x01, 0x05, 0xfa, 0x01, 0x01, 0x00]))).toBe('ok');
    // An attribute value nested past the walk's depth.
    let value = Buffer.from([0x0a, 0x00]); // AnyValue{stringValue:""}
    for (let i = 0; i < MAX_MESSAGE_DEPTH; i++) {
      const array = Buffer.concat([Buffer.from([0x0a]), varint(value.length), value]); // ArrayValue{values:[value]}
      value = Buffer.concat([Buffer.from([0x2a]), varint(array.length), array]); // AnyValue{arrayValue}
    }
    const keyValue = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(value.length), value]);
    const span = Buffer.concat([Buffer.from([0x4a]), varint(keyValue.length), keyValue]);
    expect(malformed(traceRequest(Buffer.concat([Buffer.from([0x12]), varint(span.length), span])))).toBe('otlp.malformed_protobuf');
  });

  it('never counts fewer items than the decoder builds, whatever the bytes (mutated bodies)', () => {
    const seeds: [Signal, Uint8Array][] = [
      ['traces', encodeRequest('traces', TRACES as never)],
      ['logs', encodeRequest('logs', LOGS as never)],
      ['metrics', encodeRequest('metrics', METRICS as never)],
      ['traces', traceRequest(spanEntries(20, 2))],
    ];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let compared = 0;
    for (let round = 0; round < 4000; round++) {
      const [signal, original] = seeds[round % seeds.length]!;
      const bytes = Buffer.from(original);
      for (let m = 0, n = 1 + random(4); m < n; m++) bytes[random(bytes.length)] = random(256);
      let census: Census | undefined;
      let decoded: unknown;
      try {
        census = protobufCensus(signal, bytes, NO_LIMIT);
      } catch (e) {
        expect(e).toBeInstanceOf(OtlpError);
      }
      try {
        decoded = decodeRequest(signal, bytes);
      } catch {
        decoded = undefined;
      }
      if (census && decoded) {
        expectBounded(signal, census, decoded);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });
});

describe('JSON census', () => {
  const json = (signal: Signal, message: unknown): Buffer => {
    const hexIds = JSON.stringify(message, (k, v) => (v && typeof v === 'object' && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v));
    return Buffer.from(hexIds);
  };

  for (const [signal, message] of [
    ['traces', TRACES],
    ['logs', LOGS],
    ['metrics', METRICS],
  ] as const) {
    it(`${signal}: counts the items the decoder builds, and bounds the rest`, () => {
      const body = json(signal, message);
      const census = jsonCensus(signal, body, NO_LIMIT);
      expectBounded(signal, census, requestFromJson(signal, JSON.parse(body.toString())));
    });
  }

  it('sees through escaped keys, strings that look like JSON, and whitespace', () => {
    const body = Buffer.from(
      '{ "resourceSpans" : [ { "scopeSpans": [ { "sp\\u0061ns" : [ {"name":"a \\" ] } { \\\\"}, {"name":"[{,}]"} , {} ] } ] } ] }',
    );
    expect(JSON.parse(body.toString()).resourceSpans[0].scopeSpans[0].spans).toHaveLength(3);
    expect(jsonCensus('traces', body, NO_LIMIT).items).toBe(3);
    expect(() => jsonCensus('traces', body, { maxItems: 2, maxValues: 100 })).toThrow(/more than 2 spans/);
  });

  it('counts scalar array elements and objects as values', () => {
    const body = Buffer.from(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ bucketCounts: Array(500).fill('1') }] } }] }] }] }));
    const census = jsonCensus('metrics', body, NO_LIMIT);
    expect(census.items).toBe(1);
    expect(census.values).toBeGreaterThanOrEqual(500);
    expect(() => jsonCensus('metrics', body, { maxItems: 10, maxValues: 100 })).toThrow(/STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST/);
  });
});

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
