/**
 * The SQL index over the segments (STO-2, STO-5), derived from the durable records and never
 * the other way round. Each stored record's rows (index-rows.ts) wait in memory per tenant and
 * are written in one transaction per tenant and flush — one multi-row statement per table —
 * together with the per-segment cursor (`telemetry_index_cursor.indexed_to`), so the cursor
 * always says exactly which records are in the index.
 *
 * - After a crash, `recover()` derives the rows of every record past its segment's cursor from
 *   the segment itself; `reindex()` rebuilds a tenant's index from the segments on demand.
 * - Replicas sharing a segments directory and the database (SCALE-1): a segment is indexed
 *   only by the replica that writes it while it is open — recovery covers this replica's own
 *   segments, reindexing its own and the sealed ones — so no record is indexed twice.
 * - `indexed()` resolves once a record's rows are committed: the receivers wait for it before
 *   answering when other replicas read the same index, so what one replica acknowledged every
 *   replica finds at once. Waiting records are flushed at once, together (group commit).
 * - A record the store refuses (a data error) never fails its batch: the batch is split until
 *   the record is alone, the record goes to the quarantine with the store's reason, the cursor
 *   moves past it, and everything else is written. Only an unreachable store holds rows back;
 *   they are retried with backoff. Nothing here throws out of a timer.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Quarantine, QuarantineEntry } from '../ingest/quarantine.js';
import { decodeRequest, type LogsRequest, type MetricsRequest, type Signal, type TraceRequest } from './signal-records.js';
import { describeStoreError, isRecordRejection } from '../store/sql-errors.js';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { logRows, metricsRows, traceRows, type RecordRows } from './index-rows.js';
import { parseSegmentId, segmentId } from './segment-path.js';
import { FRAME_HEADER_BYTES } from './segment-frame.js';
import type { AppendedRecord, SegmentStore } from './segment-store.js';
import { ensureTenant } from '../store/tenants.js';

export type { LogRow, SpanRow } from './index-rows.js';

export interface TelemetryIndexOptions {
  store: SqlStore;
  segments: SegmentStore;
  quarantine: Quarantine;
  logger: Logger;
  /** Rows pending (all tenants) that trigger a flush at once. Default 20000. */
  maxBatchRows?: number;
  /** Longest a row waits before it is flushed, in ms. Default 200. */
  flushIntervalMs?: number;
}

/** The signals with index rows. */
const INDEXED_SIGNALS = ['traces', 'logs', 'metrics'] as const;

interface PendingRecord {
  segment: string;
  offset: number;
  end: number;
  rows: RecordRows;
  /** Called once the record's rows are committed (or the record quarantined). */
  done?: () => void;
}

const SPAN_COLUMNS = [
  ['trace_id', 'text'],
  ['span_id', 'text'],
  ['parent_span_id', 'text'],
  ['service', 'text'],
  ['name', 'text'],
  ['kind', 'smallint'],
  ['start_ms', 'bigint'],
  ['duration_ms', 'double precision'],
  ['status_code', 'smallint'],
  ['route', 'text'],
  ['segment', 'text'],
  ['record_offset', 'bigint'],
] as const;

const LOG_COLUMNS = [
  ['ts_ms', 'bigint'],
  ['severity', 'smallint'],
  ['severity_text', 'text'],
  ['service', 'text'],
  ['trace_id', 'text'],
  ['span_id', 'text'],
  ['body', 'text'],
  ['attributes', 'jsonb'],
  ['segment', 'text'],
  ['record_offset', 'bigint'],
] as const;

const METRIC_SERIES_COLUMNS = [
  ['series_id', 'text'],
  ['name', 'text'],
  ['family', 'text'],
  ['family_type', 'text'],
  ['delta', 'boolean'],
  ['unit', 'text'],
  ['labels', 'jsonb'],
] as const;

const METRIC_POINT_COLUMNS = [
  ['series_id', 'text'],
  ['ts_ms', 'bigint'],
  ['value', 'double precision'],
  ['segment', 'text'],
  ['record_offset', 'bigint'],
] as const;

const REF_COLUMNS = [
  ['trace_id', 'text'],
  ['segment', 'text'],
  ['record_offset', 'bigint'],
] as const;

function insertSql(table: string, columns: readonly (readonly [string, string])[]): string {
  const names = columns.map(([n]) => n).join(', ');
  // jsonb arrays arrive as text[] and are cast per element.
  const unnest = columns.map(([, t], i) => `$${i + 2}::${t === 'jsonb' ? 'text' : t}[]`).join(', ');
  const select = columns.map(([n, t]) => (t === 'jsonb' ? `${n}::jsonb` : n)).join(', ');
  return `INSERT INTO ${table} (tenant_id, ${names}) SELECT $1, ${select} FROM unnest(${unnest}) AS t(${names})`;
}

const SPAN_INSERT = insertSql('telemetry_spans', SPAN_COLUMNS);
const LOG_INSERT = insertSql('telemetry_logs', LOG_COLUMNS);
const REF_INSERT = insertSql('telemetry_trace_records', REF_COLUMNS);
// A series is written once per batch; later batches find it there.
const METRIC_SERIES_INSERT = `${insertSql('telemetry_metric_series', METRIC_SERIES_COLUMNS)} ON CONFLICT (tenant_id, series_id) DO NOTHING`;
const METRIC_POINT_INSERT = insertSql('telemetry_metric_points', METRIC_POINT_COLUMNS);
const CURSOR_UPSERT = `INSERT INTO telemetry_index_cursor (tenant_id, segment, indexed_to) SELECT $1, * FROM unnest($2::text[], $3::bigint[])
  ON CONFLICT (tenant_id, segment) DO UPDATE SET indexed_to = GREATEST(telemetry_index_cursor.indexed_to, EXCLUDED.indexed_to)`;

function rowCount(rows: RecordRows): number {
  return rows.traceIds.length + rows.spans.length + rows.logs.length + (rows.metrics?.length ?? 0);
}

/** Rows of one stored record, derived again from its bytes (recovery and reindexing). */
export function rowsFromPayload(signal: Signal, payload: Uint8Array, receivedAtMs: number): RecordRows {
  if (signal === 'traces') return traceRows(decodeRequest('traces', payload) as TraceRequest);
  if (signal === 'logs') return logRows(decodeRequest('logs', payload) as LogsRequest, receivedAtMs);
  return metricsRows(decodeRequest('metrics', payload) as MetricsRequest, receivedAtMs);
}

export interface RecoveryResult {
  /** Segments whose tail (or whole) was indexed from the file. */
  segments: number;
  /** Records indexed from the files. */
  records: number;
}

export class TelemetryIndex {
  private pending = new Map<string, PendingRecord[]>();
  private pendingCount = 0;
  private flushing: Promise<void> | undefined;
  /** Serialises flushes with recovery and reindexing (they must not interleave on one segment). */
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly knownTenants = new Set<string>();
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private failures = 0;
  private stopped = false;
  /** Records pending whose caller waits for them (`indexed()`): the next flush starts at once. */
  private waiting = 0;

  constructor(private readonly options: TelemetryIndexOptions) {
    this.maxBatch = options.maxBatchRows ?? 20_000;
    this.intervalMs = options.flushIntervalMs ?? 200;
  }

  /** Rows accepted but not yet in the store (for backpressure and readiness). */
  get backlog(): number {
    return this.pendingCount;
  }

  /** Queues the rows of a record that is durable in its segment. */
  addRecord(tenant: string, at: AppendedRecord, rows: RecordRows, done?: () => void): void {
    let list = this.pending.get(tenant);
    if (!list) this.pending.set(tenant, (list = []));
    list.push({ segment: at.segment, offset: at.offset, end: at.end, rows, ...(done ? { done } : {}) });
    this.pendingCount += rowCount(rows) + 1;
    if (done) this.waiting++;
    if ((this.pendingCount >= this.maxBatch || done) && !this.flushing && this.failures === 0) this.startFlush();
    else this.schedule(this.intervalMs);
  }

  /**
   * Queues the rows of a durable record and resolves once they are committed (or the record
   * is quarantined). Never rejects: while the store is unreachable the rows are retried, and
   * the promise resolves when they are in.
   */
  indexed(tenant: string, at: AppendedRecord, rows: RecordRows): Promise<void> {
    return new Promise((resolve) => this.addRecord(tenant, at, rows, resolve));
  }

  /** Writes everything pending; resolves when the store has it (or, with the store down, after a bounded wait). */
  async flush(): Promise<void> {
    // Bounded rounds: rows pending at the call are written; a steady stream of new ones cannot keep the caller waiting.
    for (let round = 0; round < 3 && (this.flushing || this.pendingCount > 0); round++) {
      await (this.flushing ?? this.startFlush());
    }
  }

  /** Flushes what is pending and stops the timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.lock;
  }

  /**
   * Indexes every record past its segment's cursor (after a crash, or an upgrade from an
   * index without cursors: a segment with no cursor has its rows deleted and is indexed from
   * the start). Run before the receivers accept requests.
   */
  async recover(): Promise<RecoveryResult> {
    const result: RecoveryResult = { segments: 0, records: 0 };
    for (const tenant of await this.options.segments.tenants()) {
      const cursors = await this.cursors(tenant);
      for (const signal of INDEXED_SIGNALS) {
        for (const seg of await this.options.segments.segments(tenant, signal)) {
          // Another replica's segment is indexed by its writer (its rows may be on their way).
          if (!this.options.segments.owns(seg)) continue;
          const id = segmentId(signal, seg.name);
          const from = cursors.get(id);
          const size = this.options.segments.size(tenant, signal, seg.name);
          if (from !== undefined && from >= size) continue;
          result.segments++;
          result.records += await this.indexSegment(tenant, signal, seg.name, from);
        }
      }
    }
    if (result.segments > 0) this.options.logger.info({ details: { ...result } }, 'telemetry index caught up with the segments');
    return result;
  }

  /**
   * Rebuilds a tenant's index from its segments: rows and cursors are dropped, then derived
   * again — for this replica's own segments and every sealed one; another replica's open
   * segment is left to its writer (whose rows of it keep arriving).
   */
  async reindex(tenant: string): Promise<RecoveryResult> {
    const result: RecoveryResult = { segments: 0, records: 0 };
    await this.flush();
    for (const signal of INDEXED_SIGNALS) {
      for (const seg of await this.options.segments.segments(tenant, signal)) {
        if (!seg.sealed && !this.options.segments.owns(seg)) continue;
        result.segments++;
        result.records += await this.indexSegment(tenant, signal, seg.name, undefined);
      }
    }
    this.options.logger.info({ tenant_id: tenant, details: { ...result } }, 'telemetry index rebuilt from the segments');
    return result;
  }

  /**
   * Derives and writes the rows of one stored record again (a quarantined record, after the
   * cause was fixed). Refused again, it is quarantined anew.
   */
  async replayRecord(tenant: string, segment: string, offset: number): Promise<void> {
    const seg = parseSegmentId(segment);
    if (!seg) return;
    await this.exclusive(async () => {
      const record = await this.options.segments.readRecord(tenant, seg, offset);
      let rows: RecordRows;
      try {
        rows = rowsFromPayload(seg.signal, record.payload, record.receivedAtMs);
      } catch (error) {
        await this.options.quarantine.add(tenant, [{ signal: seg.signal, reason: 'index.undecodable', error: (error as Error).message, source: `segment:${segment}@${offset}` }]);
        return;
      }
      await this.writeTenant(tenant, [{ segment, offset, end: offset + FRAME_HEADER_BYTES + record.length, rows }]);
    });
  }

  /** Deletes the index rows and cursor of one segment (retention removes the segment next). */
  static async removeSegmentRows(tx: SqlTx, tenant: string, segment: string): Promise<void> {
    for (const table of ['telemetry_spans', 'telemetry_logs', 'telemetry_trace_records', 'telemetry_metric_points', 'telemetry_index_cursor']) {
      await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1 AND segment = $2`, [tenant, segment]);
    }
  }

  private async cursors(tenant: string): Promise<Map<string, number>> {
    const { rows } = await this.options.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ segment: string; indexed_to: string }>('SELECT segment, indexed_to FROM telemetry_index_cursor WHERE tenant_id = $1', [tenant]),
    );
    return new Map(rows.map((r) => [r.segment, Number(r.indexed_to)]));
  }

  /**
   * Derives the rows of a segment's records from `from` (undefined: from scratch, deleting the
   * segment's rows first) up to its current end, writing them in batches with the cursor.
   */
  private indexSegment(tenant: string, signal: Signal, name: string, from: number | undefined): Promise<number> {
    return this.exclusive(async () => {
      const id = segmentId(signal, name);
      const end = this.options.segments.size(tenant, signal, name);
      // Records queued live below `end` are covered by this pass: drop them from the queue (their waiters hear when it is done).
      const queued = this.pending.get(tenant);
      const covered: PendingRecord[] = [];
      if (queued) {
        const keep = queued.filter((r) => r.segment !== id || r.offset >= end);
        for (const r of queued) {
          if (r.segment !== id || r.offset >= end) continue;
          this.pendingCount -= rowCount(r.rows) + 1;
          if (r.done) this.waiting--;
          covered.push(r);
        }
        this.pending.set(tenant, keep);
      }
      try {
        return await this.indexSegmentFrom(tenant, signal, id, name, end, from);
      } finally {
        // Durable either way; a pass that failed leaves them past the cursor, for the next recovery.
        for (const r of covered) r.done?.();
      }
    });
  }

  private async indexSegmentFrom(tenant: string, signal: Signal, id: string, name: string, end: number, from: number | undefined): Promise<number> {
    const { segments, store } = this.options;
      if (from === undefined) await store.tenantTransaction(tenant, (tx) => TelemetryIndex.removeSegmentRows(tx, tenant, id));
      let batch: PendingRecord[] = [];
      let rows = 0;
      let records = 0;
      const unreadable: QuarantineEntry[] = [];
      for await (const record of segments.records(tenant, signal, name, { fromOffset: from ?? 0 })) {
        if (record.offset >= end) break;
        const recordEnd = record.offset + FRAME_HEADER_BYTES + record.length;
        let derived: RecordRows;
        try {
          derived = rowsFromPayload(signal, record.payload, record.receivedAtMs);
        } catch (error) {
          unreadable.push({ signal, reason: 'index.undecodable', error: (error as Error).message, source: `segment:${id}@${record.offset}` });
          derived = { traceIds: [], spans: [], logs: [] };
        }
        batch.push({ segment: id, offset: record.offset, end: recordEnd, rows: derived });
        records++;
        rows += rowCount(derived) + 1;
        if (rows >= this.maxBatch) {
          await this.writeTenant(tenant, batch);
          batch = [];
          rows = 0;
        }
      }
      if (batch.length > 0) await this.writeTenant(tenant, batch);
      if (unreadable.length > 0) await this.options.quarantine.add(tenant, unreadable);
      return records;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.flushing) this.startFlush();
    }, delayMs);
    this.timer.unref();
  }

  /** Starts a flush of everything pending; the returned promise never rejects. */
  private startFlush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    this.waiting = 0;
    const flushing = this.exclusive(() => this.writeAll(taken))
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'telemetry index flush failed unexpectedly; its rows are queued again');
      })
      .finally(() => {
        this.flushing = undefined;
        if ((this.pendingCount >= this.maxBatch || this.waiting > 0) && this.failures === 0) this.startFlush();
        else if (this.pendingCount > 0) this.schedule(this.failures === 0 ? this.intervalMs : Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6)));
      });
    this.flushing = flushing;
    return flushing;
  }

  /** Writes each tenant's records; a tenant whose store is unreachable gets its records back in the queue. */
  private async writeAll(taken: Map<string, PendingRecord[]>): Promise<void> {
    let failed = false;
    for (const [tenant, records] of taken) {
      try {
        await this.writeTenant(tenant, records);
        for (const r of records) r.done?.();
      } catch (error) {
        failed = true;
        // Put the records back in front: the segments hold the data, the index only has to catch up.
        const later = this.pending.get(tenant) ?? [];
        this.pending.set(tenant, [...records, ...later]);
        for (const r of records) {
          this.pendingCount += rowCount(r.rows) + 1;
          if (r.done) this.waiting++;
        }
        this.options.logger.error({ err: error, tenant_id: tenant, details: { records: records.length } }, 'telemetry index flush failed; retrying');
      }
    }
    this.failures = failed ? this.failures + 1 : 0;
  }

  /**
   * Writes records of one tenant with their cursors in one transaction. On a data error the
   * records are split in halves and written separately; a single record the store refuses is
   * quarantined (and its cursor advanced). Throws only for transient failures.
   */
  private async writeTenant(tenant: string, records: PendingRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.options.store.tenantTransaction(tenant, (tx) => this.insert(tx, tenant, records));
      this.knownTenants.add(tenant);
    } catch (error) {
      if (!isRecordRejection(error)) throw error;
      if (records.length === 1) {
        const r = records[0]!;
        const signal = parseSegmentId(r.segment)?.signal ?? 'traces';
        await this.options.store.tenantTransaction(tenant, async (tx) => {
          await this.options.quarantine.addIn(tx, tenant, [
            { signal, reason: 'index.rejected', error: describeStoreError(error), source: `segment:${r.segment}@${r.offset}` },
          ]);
          await tx.query(CURSOR_UPSERT, [tenant, [r.segment], [r.end]]);
        });
        return;
      }
      const half = Math.ceil(records.length / 2);
      await this.writeTenant(tenant, records.slice(0, half));
      await this.writeTenant(tenant, records.slice(half));
    }
  }

  private async insert(tx: SqlTx, tenant: string, records: PendingRecord[]): Promise<void> {
    if (!this.knownTenants.has(tenant)) await ensureTenant(tx, tenant);
    const refs: unknown[][] = REF_COLUMNS.map(() => []);
    const spans: unknown[][] = SPAN_COLUMNS.map(() => []);
    const logs: unknown[][] = LOG_COLUMNS.map(() => []);
    const series: unknown[][] = METRIC_SERIES_COLUMNS.map(() => []);
    const seriesSeen = new Set<string>();
    const points: unknown[][] = METRIC_POINT_COLUMNS.map(() => []);
    const cursor = new Map<string, number>();
    for (const r of records) {
      for (const traceId of r.rows.traceIds) {
        refs[0]!.push(traceId);
        refs[1]!.push(r.segment);
        refs[2]!.push(r.offset);
      }
      for (const s of r.rows.spans) {
        const values = [s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.kind, s.start_ms, s.duration_ms, s.status_code, s.route, r.segment, r.offset];
        for (let i = 0; i < values.length; i++) spans[i]!.push(values[i]);
      }
      for (const l of r.rows.logs) {
        const values = [l.ts_ms, l.severity, l.severity_text, l.service, l.trace_id, l.span_id, l.body, l.attributes, r.segment, r.offset];
        for (let i = 0; i < values.length; i++) logs[i]!.push(values[i]);
      }
      for (const m of r.rows.metrics ?? []) {
        if (!seriesSeen.has(m.series_id)) {
          seriesSeen.add(m.series_id);
          const values = [m.series_id, m.name, m.family, m.family_type, m.delta, m.unit, m.labels];
          for (let i = 0; i < values.length; i++) series[i]!.push(values[i]);
        }
        const values = [m.series_id, m.ts_ms, m.value, r.segment, r.offset];
        for (let i = 0; i < values.length; i++) points[i]!.push(values[i]);
      }
      cursor.set(r.segment, Math.max(cursor.get(r.segment) ?? 0, r.end));
    }
    if (refs[0]!.length > 0) await tx.query(REF_INSERT, [tenant, ...refs]);
    if (spans[0]!.length > 0) await tx.query(SPAN_INSERT, [tenant, ...spans]);
    if (logs[0]!.length > 0) await tx.query(LOG_INSERT, [tenant, ...logs]);
    if (series[0]!.length > 0) await tx.query(METRIC_SERIES_INSERT, [tenant, ...series]);
    if (points[0]!.length > 0) await tx.query(METRIC_POINT_INSERT, [tenant, ...points]);
    await tx.query(CURSOR_UPSERT, [tenant, [...cursor.keys()], [...cursor.values()]]);
  }
}
