/**
 * The quarantine is inspectable and replayable, and the telemetry index can be rebuilt from the
 * segments on demand: a stored record the index refuses shows in `GET /telemetry/quarantine`
 * with the store's reason; replaying it tries again (refused again: quarantined anew); a
 * reindex drops the tenant's rows and derives them from the segments, good records readable.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_TYPES } from '../../src/segments/signal-records.js';
import type { OtlpRuntime } from '../../src/otlp/otlp-feature.js';
import { rowsFromPayload } from '../../src/segments/telemetry-index.js';
import { eventually } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

function traceRequest(traceId: Buffer, kind: number): Uint8Array {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const type = REQUEST_TYPES.traces;
  return type
    .encode(type.fromObject({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'q-svc' } }] }, scopeSpans: [{ spans: [{ traceId, spanId: randomBytes(8), name: 'GET /q', kind, startTimeUnixNano: now, endTimeUnixNano: now }] }] }] }) as never)
    .finish();
}

describe('quarantine and reindex API', () => {
  let t: TestService;
  let admin: string;
  let reader: string;
  beforeAll(async () => {
    t = await startTestService();
    admin = await t.token('acme', ['stella:telemetry:admin#tenant/acme']);
    reader = await t.token('acme', ['stella:obs:read#tenant/acme']);
  });
  afterAll(async () => t?.stop());

  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
    t.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  it('lists a refused record with its reason, replays it, and rebuilds the index from the segments', async () => {
    const telemetry = t.service.parts.telemetry;
    const ingestor = (t.service.features.get('otlp') as OtlpRuntime).ingestor;
    const good = randomBytes(16);
    expect((await ingestor.ingest('acme', 'traces', traceRequest(good, 2), 'protobuf')).accepted).toBe(1);
    // A record stored by an older receiver that let an out-of-range kind through.
    const poison = randomBytes(16);
    const payload = traceRequest(poison, 70_000);
    const at = telemetry.segments.append('acme', 'traces', Date.now(), 1, payload);
    telemetry.index.addRecord('acme', at, rowsFromPayload('traces', payload, Date.now()));
    await telemetry.index.flush();

    const listed = await call('GET', '/telemetry/quarantine', admin);
    expect(listed.statusCode).toBe(200);
    const entries = listed.json().entries as { quarantine_id: string; reason: string; source: string; error: string }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ reason: 'index.rejected', source: `segment:${at.segment}@${at.offset}` });
    expect(entries[0]!.error).toMatch(/out of range/);
    expect((await call('GET', '/telemetry/quarantine', reader)).statusCode).toBe(403);

    const replay = await call('POST', '/telemetry/quarantine/replay', admin, {});
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ replayed: 1, refused_again: 1 });
    const after = (await call('GET', '/telemetry/quarantine', admin)).json().entries as { quarantine_id: string }[];
    expect(after).toHaveLength(1);
    expect(after[0]!.quarantine_id).not.toBe(entries[0]!.quarantine_id);

    // Lose the index, then rebuild it from the segments.
    await t.service.store.tenantTransaction('acme', async (tx) => {
      for (const table of ['telemetry_spans', 'telemetry_trace_records', 'telemetry_index_cursor']) await tx.query(`DELETE FROM ${table} WHERE tenant_id = 'acme'`);
    });
    expect((await call('GET', `/obs/trace/${good.toString('hex')}`, reader)).statusCode).toBe(404);
    const reindex = await call('POST', '/telemetry/reindex', admin);
    expect(reindex.statusCode).toBe(200);
    expect(reindex.json()).toEqual({ segments: 1, records: 2 });
    expect((await call('GET', `/obs/trace/${good.toString('hex')}`, reader)).statusCode).toBe(200);
    expect((await call('GET', `/obs/trace/${poison.toString('hex')}`, reader)).statusCode).toBe(404);
    const open = (await call('GET', '/telemetry/quarantine', admin)).json().entries as { reason: string }[];
    expect(open).toHaveLength(1);
    // Audit events travel the bus to the timeline indexer.
    const timelineToken = await t.token('acme', ['stella:timeline:read#tenant/acme']);
    const kinds = await eventually(async () => {
      const res = await t.service.app.inject({ method: 'GET', url: '/timeline?kind=audit.*', headers: { authorization: `Bearer ${timelineToken}` } });
      const k = (res.json().events as { kind: string }[]).map((e) => e.kind);
      return k.includes('audit.telemetry.reindexed') ? k : undefined;
    }, 10_000, 'the reindex audit event');
    expect(kinds).toEqual(expect.arrayContaining(['audit.telemetry.quarantine_replayed', 'audit.telemetry.reindexed']));
  });
});
