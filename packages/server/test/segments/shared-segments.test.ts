/**
 * Replicas sharing one segments directory (SCALE-1): each appends to its own files only, reads
 * everyone's and the one-service layout's, seals another replica's segments only once their hour
 * ended a grace period ago, and never removes another replica's open segment — also when the
 * service's retention job runs.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Leadership } from '../../src/jobs/leadership.js';
import { resolveReplicaId } from '../../src/segments/replica-id.js';
import { hourKey, parseSegmentId, segmentId } from '../../src/segments/segment-path.js';
import { SegmentError, SegmentStore } from '../../src/segments/segment-store.js';
import { TelemetryRetentionJob } from '../../src/segments/telemetry-retention-job.js';
import { exportWith, makeSpans, startReceiver } from '../otlp/otlp-helpers.js';

const T0 = Date.parse('2025-03-01T10:15:00Z');
const HOUR = hourKey(T0);
const DAY = 86_400_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-shared-segments-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function payloads(store: SegmentStore, name: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of store.records('acme', 'traces', name)) out.push(r.payload.toString());
  return out;
}

describe('segments shared by replicas', () => {
  it('gives each replica its own file per hour, and each reads the others’ records by their index ids', async () => {
    const a = new SegmentStore(dir, undefined, { replica: 'replica-a' });
    const b = new SegmentStore(dir, undefined, { replica: 'replica-b' });
    const fromA = a.append('acme', 'traces', T0, 1, Buffer.from('from a'));
    const fromB = b.append('acme', 'traces', T0, 1, Buffer.from('from b'));
    await Promise.all([a.durable(), b.durable()]);
    expect(fromA).toEqual({ segment: `traces/${HOUR}.replica-a`, offset: 0, end: 26 });
    expect(fromB).toEqual({ segment: `traces/${HOUR}.replica-b`, offset: 0, end: 26 });
    expect(existsSync(join(dir, 'acme', 'traces', `${HOUR}.replica-a.seg`))).toBe(true);
    // Any replica reads any record the index names.
    for (const reader of [a, b]) {
      expect((await reader.readRecord('acme', parseSegmentId(fromA.segment)!, fromA.offset)).payload.toString()).toBe('from a');
      expect((await reader.readRecord('acme', parseSegmentId(fromB.segment)!, fromB.offset)).payload.toString()).toBe('from b');
    }
    const listed = await a.segments('acme', 'traces');
    expect(listed.map((s) => [s.name, s.hour, s.replica, a.owns(s)])).toEqual([
      [`${HOUR}.replica-a`, HOUR, 'replica-a', true],
      [`${HOUR}.replica-b`, HOUR, 'replica-b', false],
    ]);
    a.close();
    b.close();
  });

  it('reads the one-service layout (<hour>.seg) next to the replicas’ files, and appends to its own', async () => {
    const before = new SegmentStore(dir);
    const old = before.append('acme', 'traces', T0, 1, Buffer.from('before replicas'));
    before.close();
    expect(old.segment).toBe(`traces/${HOUR}`);
    const a = new SegmentStore(dir, undefined, { replica: 'replica-a' });
    const now = a.append('acme', 'traces', T0 + 60_000, 1, Buffer.from('with replicas'));
    expect(now.segment).toBe(`traces/${HOUR}.replica-a`);
    expect((await a.readRecord('acme', parseSegmentId(old.segment)!, old.offset)).payload.toString()).toBe('before replicas');
    const names = (await a.segments('acme', 'traces')).map((s) => s.name);
    expect(names).toEqual([HOUR, `${HOUR}.replica-a`]);
    expect(await payloads(a, HOUR)).toEqual(['before replicas']);
    // Files left by one service are this replica's to seal and prune too.
    expect(a.owns({})).toBe(true);
    a.close();
  });

  it('seals another replica’s past hour only after the grace period, and never removes its open segment', async () => {
    const a = new SegmentStore(dir, undefined, { replica: 'replica-a', foreignSealGraceMs: 15 * 60_000 });
    const b = new SegmentStore(dir, undefined, { replica: 'replica-b' });
    a.append('acme', 'traces', T0, 1, Buffer.from('a'));
    b.append('acme', 'traces', T0, 1, Buffer.from('b'));
    const nextHour = Date.parse('2025-03-01T11:05:00Z');
    const sealedFirst = await a.sealBefore(nextHour);
    expect(sealedFirst).toHaveLength(1);
    expect(existsSync(a.manifestPath('acme', 'traces', `${HOUR}.replica-a`))).toBe(true);
    expect(existsSync(a.manifestPath('acme', 'traces', `${HOUR}.replica-b`))).toBe(false);
    // B's segment is not sealed: A refuses to remove it, and it is still B's to append to.
    const refused = await a.remove('acme', 'traces', `${HOUR}.replica-b`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SegmentError);
    expect((refused as SegmentError).code).toBe('segment.not_sealed');
    expect(existsSync(b.path('acme', 'traces', `${HOUR}.replica-b`))).toBe(true);
    b.append('acme', 'traces', T0 + 1000, 1, Buffer.from('b again'));
    // A quarter of an hour after the hour: B is gone for good as far as A can tell; A seals B's file.
    const sealedLater = await a.sealBefore(Date.parse('2025-03-01T11:16:00Z'));
    expect(sealedLater.map((m) => m.hour)).toEqual([new Date(Date.parse('2025-03-01T10:00:00Z')).toISOString()]);
    expect(await a.remove('acme', 'traces', `${HOUR}.replica-b`)).toBeGreaterThan(0);
    a.close();
    b.close();
  });

  it('names segments and replicas strictly', () => {
    expect(parseSegmentId(segmentId('logs', `${HOUR}.r-1f`))).toEqual({ signal: 'logs', name: `${HOUR}.r-1f`, hour: HOUR, replica: 'r-1f' });
    expect(parseSegmentId(`logs/${HOUR}`)).toEqual({ signal: 'logs', name: HOUR, hour: HOUR });
    for (const bad of [`logs/${HOUR}.`, `logs/${HOUR}.a.b`, `logs/${HOUR}./x`, 'logs/2025030110', `spans/${HOUR}`]) expect(parseSegmentId(bad)).toBeUndefined();
    expect(() => new SegmentStore(dir, undefined, { replica: 'a.b' })).toThrow(expect.objectContaining({ code: 'segment.replica_invalid' }));
  });

  it('keeps a replica id per data directory unless one is configured', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stella-replica-id-'));
    try {
      const made = resolveReplicaId(dataDir, undefined);
      expect(made).toMatch(/^r-[0-9a-f]{12}$/);
      expect(resolveReplicaId(dataDir, undefined)).toBe(made);
      expect(resolveReplicaId(dataDir, 'replica-a')).toBe('replica-a');
      writeFileSync(join(dataDir, 'replica-id'), 'no/slashes\n');
      expect(() => resolveReplicaId(dataDir, undefined)).toThrow(expect.objectContaining({ code: 'segment.replica_invalid' }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the retention job prunes a replica’s own expired segments, the leader’s also the others’ once sealed, and never another replica’s open segment', { timeout: 60_000 }, async () => {
    const clock = { now: T0 };
    const svc = await startReceiver({ STELLA_REPLICA_ID: 'replica-a' }, [], () => clock.now);
    try {
      const token = await svc.token('acme', ['stella:telemetry:write#tenant/acme']);
      const result = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${svc.ports.http}/v1/traces`, headers: { authorization: `Bearer ${token}` } }), makeSpans('svc-old'));
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      const root = svc.telemetry.segments.root;
      // Replica B wrote in the same old hour and stopped; now it (or a replica C) writes the current hour.
      const b = new SegmentStore(root, undefined, { replica: 'replica-b' });
      b.append('acme', 'traces', T0, 1, Buffer.from('old, from b'));
      clock.now = T0 + 40 * DAY;
      const current = b.append('acme', 'traces', clock.now, 1, Buffer.from('open, from b'));
      await b.durable();

      // A replica that does not lead prunes its own expired segment only.
      const following: Leadership = { isLeader: false, mode: 'postgres-advisory-lock', onChange: () => () => undefined, start: async () => undefined, stop: async () => undefined };
      const { store, audit, logger } = svc.service.parts;
      const follower = new TelemetryRetentionJob({ telemetry: svc.telemetry, store, settings: svc.segments.retentionSettings, audit, logger, clock: () => clock.now, intervalMs: 60_000, leadership: following });
      expect((await follower.runOnce()).removed.map((r) => `${r.hour}:${r.signal}`)).toEqual([`${HOUR}:traces`]);
      expect((await svc.telemetry.segments.segments('acme', 'traces')).map((s) => s.name)).toEqual([`${HOUR}.replica-b`, parseSegmentId(current.segment)!.name]);

      // The leader (a lone service leads) prunes the gone replica's sealed segment too.
      const run = await svc.segments.retention.runOnce();
      expect(run.removed.map((r) => r.hour)).toEqual([HOUR]);
      const left = await svc.telemetry.segments.segments('acme', 'traces');
      expect(left.map((s) => [s.name, s.sealed])).toEqual([[parseSegmentId(current.segment)!.name, false]]);
      expect(await payloads(b, parseSegmentId(current.segment)!.name)).toEqual(['open, from b']);
      b.close();
    } finally {
      await svc.stop();
    }
  });
});
