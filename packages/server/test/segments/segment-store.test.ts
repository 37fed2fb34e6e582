import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_BYTES } from '../../src/segments/chunk-manifest.js';
import { hourKey } from '../../src/segments/segment-path.js';
import { SegmentError, SegmentStore } from '../../src/segments/segment-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-segments-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const T0 = Date.parse('2025-03-01T10:15:00Z');

async function all(store: SegmentStore, hour: string) {
  const out = [];
  for await (const r of store.records('acme', 'traces', hour)) out.push(r);
  return out;
}

describe('SegmentStore', () => {
  it('appends records per tenant and hour, reads them back whole and in order', async () => {
    const store = new SegmentStore(dir);
    const a = store.append('acme', 'traces', T0, 3, Buffer.from('first'));
    const b = store.append('acme', 'traces', T0 + 1000, 1, Buffer.from('second'));
    store.append('globex', 'traces', T0, 1, Buffer.from('other tenant'));
    const next = store.append('acme', 'traces', T0 + 3_600_000, 1, Buffer.from('next hour'));
    expect(a).toEqual({ segment: 'traces/20250301T10', offset: 0, end: 25 });
    expect(b.offset).toBe(20 + 5);
    expect(next.segment).toBe('traces/20250301T11');
    const records = await all(store, '20250301T10');
    expect(records.map((r) => [r.payload.toString(), r.items, r.receivedAtMs])).toEqual([
      ['first', 3, T0],
      ['second', 1, T0 + 1000],
    ]);
    expect((await store.readRecord('acme', { signal: 'traces', hour: '20250301T10' }, b.offset)).payload.toString()).toBe('second');
    expect(await store.tenants()).toEqual(['acme', 'globex']);
    store.close();
  });

  it('cuts a torn tail on reopen, so a crash mid-append never leaves half a record', async () => {
    const store = new SegmentStore(dir);
    store.append('acme', 'traces', T0, 1, Buffer.from('whole'));
    store.close();
    const path = store.path('acme', 'traces', hourKey(T0));
    const good = statSync(path).size;
    appendFileSync(path, Buffer.from([0, 0, 0, 50, 1, 2, 3]));
    const reopened = new SegmentStore(dir);
    const c = reopened.append('acme', 'traces', T0, 1, Buffer.from('after'));
    expect(c.offset).toBe(good);
    expect((await all(reopened, hourKey(T0))).map((r) => r.payload.toString())).toEqual(['whole', 'after']);
    reopened.close();
  });

  it('seals past hours with a chunk manifest that rebuilds byte-identically, then refuses appends to them', async () => {
    const store = new SegmentStore(dir);
    const big = Buffer.alloc(CHUNK_BYTES / 2 + 7, 0x61);
    for (let i = 0; i < 3; i++) store.append('acme', 'traces', T0 + i, 10, big);
    store.append('acme', 'traces', T0 + 3_600_000, 1, Buffer.from('current hour'));
    const sealed = await store.sealBefore(T0 + 3_600_000);
    expect(sealed).toHaveLength(1);
    const m = sealed[0]!;
    expect(m).toMatchObject({ tenant: 'acme', signal: 'traces', hour: '2025-03-01T10:00:00.000Z', records: 3, items: 30, bytes: 3 * (20 + big.length) });
    expect(m.chunks.map((c) => c.size)).toEqual([CHUNK_BYTES, 3 * (20 + big.length) - CHUNK_BYTES]);
    const stored = readFileSync(store.manifestPath('acme', 'traces', '20250301T10'));
    const { serializeSegmentManifest } = await import('../../src/segments/chunk-manifest.js');
    expect(Buffer.compare(serializeSegmentManifest(await store.rebuildManifest('acme', 'traces', '20250301T10')), stored)).toBe(0);
    expect((await store.segments('acme', 'traces')).map((s) => [s.hour, s.sealed])).toEqual([
      ['20250301T10', true],
      ['20250301T11', false],
    ]);
    // A clock that jumps back cannot reopen a sealed hour.
    expect(() => store.append('acme', 'traces', T0, 1, Buffer.from('late'))).toThrow(SegmentError);
    store.close();
  });
});
