/**
 * One canonical JSON: telemetry-core (timeline digests, bus bytes) and the forensics library
 * (manifests, DSSE payloads, bundles) both write RFC 8785 through the `canonicalize` package and
 * accept the same values, so an event digest computed by one is re-checked by the other.
 */
import { createHash } from 'node:crypto';
import { jcs, jcsBytes } from '@stellaops/forensics';
import {
  buildTimelineEvent,
  canonicalJson,
  decodeTimelineEvent,
  encodeTimelineEvent,
  InProcessBus,
  TimelineEmitter,
  timelineEventDigest,
  type TimelineEvent,
} from '@stellaops/telemetry-core';
import { describe, expect, it } from 'vitest';
import { serializeSegmentManifest, type SegmentManifest } from '../../src/segments/chunk-manifest.js';

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;

/** RFC 8785 §3.2.2's sample, as parsed JSON. */
const RFC_SAMPLE = JSON.parse(
  '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
) as Record<string, unknown>;

const DETAILS: Record<string, unknown>[] = [
  {},
  { z: 1, a: [2, { y: 3, b: 4 }] },
  RFC_SAMPLE,
  { '10': 'ten', '9': 'nine', '': 'empty', '\u20ac': 'euro', '\ud83d\ude00': 'grin', '\ufb33': 'dalet', '\u0080': 'control' },
  { n: [0, -0, 1e21, 1e-7, 5e-324, 0.1 + 0.2, -1.7976931348623157e308, 2 ** 53 + 2], t: true, f: false, x: null },
  { text: 'tab\tquote"backslash\\ slash/ \u001f \u007f \u2028\u2029 é 日本 \ud83d\ude00', long: 'x'.repeat(4000) },
  { when: new Date('2025-03-01T10:00:00Z'), gone: undefined, list: [undefined, 'a'] },
  { deep: { a: { b: { c: { d: [[[{ e: 'f' }]]] } } } } },
];

function check(event: TimelineEvent): void {
  const { digest, ...rest } = event;
  expect(digest).toBe(sha256(jcs(rest)));
  expect(timelineEventDigest(event)).toBe(digest);
  expect(Buffer.from(encodeTimelineEvent(event)).equals(jcsBytes(event))).toBe(true);
  expect(decodeTimelineEvent(jcsBytes(event))).toEqual(event);
}

describe('one canonical JSON for timeline events and evidence', () => {
  it('digests of events telemetry-core builds are SHA-256 of forensics jcs of the same event', () => {
    for (const [i, details] of DETAILS.entries()) {
      check(
        buildTimelineEvent({
          kind: 'evidence.bundle.committed',
          tenant_id: 'acme',
          project_id: 'proj-é',
          actor: 'alice@example',
          resource_type: 'bundle',
          resource_id: `bundle-${i}`,
          trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
          ts: '2025-03-01T10:00:00.123Z',
          details,
        }),
      );
    }
  });

  it('holds for events the emitter builds with its scrubber, and for a producer-supplied digest', () => {
    const emitter = new TimelineEmitter({ bus: new InProcessBus() });
    const event = emitter.build({ kind: 'auth.login', tenant_id: 'acme', details: { password: 'hunter2', note: 'contact alice@example.com', when: new Date(0) } });
    check(event);
    const { digest, ...rest } = event;
    expect(buildTimelineEvent({ ...rest, digest: sha256(jcs(rest)) }).digest).toBe(digest);
  });

  it('both libraries write the same bytes for every value and refuse the same values', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    let nested: unknown = 1;
    for (let i = 0; i < 1001; i++) nested = [nested];
    const withProto = JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>;
    withProto['d'] = new Date(0);
    const values: unknown[] = [
      ...DETAILS,
      null,
      'plain',
      -0,
      [],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { toJSON: () => ({ b: 1, a: 2 }) },
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
      withProto,
      // Refused by both:
      undefined,
      NaN,
      { x: Infinity },
      { n: 1n },
      { f: () => 1 },
      [Symbol('s')],
      { m: new Map([['k', 1]]) },
      { s: new Set([1]) },
      { c: new (class Finding {})() },
      { t: { toJSON: () => new Date(0) } },
      { s: 'lone \ud800' },
      { ['\udc00']: 1 },
      cycle,
      nested,
    ];
    for (const [i, value] of values.entries()) {
      let fromForensics: string | Error;
      let fromTimeline: string | Error;
      try {
        fromForensics = jcs(value);
      } catch (e) {
        fromForensics = e as Error;
      }
      try {
        fromTimeline = canonicalJson(value);
      } catch (e) {
        fromTimeline = e as Error;
      }
      if (typeof fromForensics === 'string') expect(fromTimeline, `value ${i}`).toBe(fromForensics);
      else expect(fromTimeline, `value ${i}: ${fromForensics.message}`).toBeInstanceOf(Error);
    }
  });

  it('segment chunk manifests are forensics jcs with a final newline', () => {
    const manifest: SegmentManifest = {
      format: 'stellaops.telemetry-segment/v1',
      tenant: 'acme',
      signal: 'traces',
      hour: '2025-03-01T10:00:00.000Z',
      bytes: 5,
      records: 1,
      items: 2,
      chunk_bytes: 1 << 20,
      chunks: [{ index: 0, offset: 0, size: 5, sha256: 'ab'.repeat(32) }],
      sha256: 'cd'.repeat(32),
    };
    const bytes = serializeSegmentManifest(manifest);
    expect(bytes.toString('utf8')).toBe(`${jcs(manifest)}\n`);
    expect(bytes.toString('utf8')).toBe(
      `{"bytes":5,"chunk_bytes":1048576,"chunks":[{"index":0,"offset":0,"sha256":"${'ab'.repeat(32)}","size":5}],"format":"stellaops.telemetry-segment/v1","hour":"2025-03-01T10:00:00.000Z","items":2,"records":1,"sha256":"${'cd'.repeat(32)}","signal":"traces","tenant":"acme"}\n`,
    );
  });
});
