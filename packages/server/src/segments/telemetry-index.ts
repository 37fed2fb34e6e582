/**
 * The SQL index over the segments (trace id → spans, logs by time/severity/trace), written in
 * batches: rows collect per tenant in column arrays and go to the store in one
 * `INSERT ... SELECT FROM unnest(...)` per tenant and flush — never a round trip per span. The
 * index lags the segments by at most one flush interval; `flush()` makes it current.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { SqlStore } from '../store/sql-store.js';

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service: string;
  name: string;
  kind: number;
  start_ms: number;
  duration_ms: number;
  status_code: number;
  route: string | null;
  segment: string;
  record_offset: number;
}

export interface LogRow {
  ts_ms: number;
  severity: number;
  severity_text: string | null;
  service: string;
  trace_id: string | null;
  span_id: string | null;
  body: string;
  /** JSON text of the record's attributes. */
  attributes: string;
  segment: string;
  record_offset: number;
}

export interface TelemetryIndexOptions {
  store: SqlStore;
  logger: Logger;
  /** Rows per tenant that trigger a flush at once. Default 20000. */
  maxBatchRows?: number;
  /** Longest a row waits before it is flushed, in ms. Default 200. */
  flushIntervalMs?: number;
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

function insertSql(table: string, columns: readonly (readonly [string, string])[]): string {
  const names = columns.map(([n]) => n).join(', ');
  // jsonb arrays arrive as text[] and are cast per element.
  const unnest = columns.map(([, t], i) => `$${i + 2}::${t === 'jsonb' ? 'text' : t}[]`).join(', ');
  const select = columns.map(([n, t]) => (t === 'jsonb' ? `${n}::jsonb` : n)).join(', ');
  return `INSERT INTO ${table} (tenant_id, ${names}) SELECT $1, ${select} FROM unnest(${unnest}) AS t(${names})`;
}

const SPAN_INSERT = insertSql('telemetry_spans', SPAN_COLUMNS);
const LOG_INSERT = insertSql('telemetry_logs', LOG_COLUMNS);

interface TenantBatch {
  spans: SpanRow[];
  logs: LogRow[];
}

export class TelemetryIndex {
  private pending = new Map<string, TenantBatch>();
  private pendingCount = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly knownTenants = new Set<string>();
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private stopped = false;

  constructor(private readonly options: TelemetryIndexOptions) {
    this.maxBatch = options.maxBatchRows ?? 20_000;
    this.intervalMs = options.flushIntervalMs ?? 200;
  }

  /** Rows accepted but not yet in the store (for backpressure and readiness). */
  get backlog(): number {
    return this.pendingCount;
  }

  addSpans(tenant: string, rows: SpanRow[]): void {
    if (rows.length === 0) return;
    const batch = this.batch(tenant);
    for (const r of rows) batch.spans.push(r);
    this.added(rows.length);
  }

  addLogs(tenant: string, rows: LogRow[]): void {
    if (rows.length === 0) return;
    const batch = this.batch(tenant);
    for (const r of rows) batch.logs.push(r);
    this.added(rows.length);
  }

  /** Writes everything pending; resolves when the store has it. */
  async flush(): Promise<void> {
    // Bounded rounds: rows pending at the call are written; a steady stream of new ones cannot keep the caller waiting.
    for (let round = 0; round < 3 && (this.flushing || this.pendingCount > 0); round++) {
      if (this.flushing) await this.flushing.catch(() => undefined);
      else await this.startFlush();
    }
  }

  /** Flushes what is pending and stops the timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private batch(tenant: string): TenantBatch {
    let b = this.pending.get(tenant);
    if (!b) {
      b = { spans: [], logs: [] };
      this.pending.set(tenant, b);
    }
    return b;
  }

  private added(n: number): void {
    this.pendingCount += n;
    if (this.pendingCount >= this.maxBatch && !this.flushing) {
      void this.startFlush();
    } else if (!this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.flushing) void this.startFlush();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  private startFlush(): Promise<void> {
    const taken = this.pending;
    const count = this.pendingCount;
    this.pending = new Map();
    this.pendingCount = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.write(taken)
      .catch((error: unknown) => {
        // Put the rows back: the segments hold the data, the index only has to catch up.
        for (const [tenant, b] of taken) {
          const into = this.batch(tenant);
          into.spans.unshift(...b.spans);
          into.logs.unshift(...b.logs);
        }
        this.pendingCount += count;
        this.options.logger.error({ err: error, details: { rows: count } }, 'telemetry index flush failed; retrying');
        if (!this.stopped) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            if (!this.flushing) void this.startFlush();
          }, 1000);
          this.timer.unref();
        }
        throw error;
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.pendingCount >= this.maxBatch) void this.startFlush();
        else if (this.pendingCount > 0 && !this.timer && !this.stopped) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            if (!this.flushing) void this.startFlush();
          }, this.intervalMs);
          this.timer.unref();
        }
      });
    return this.flushing;
  }

  private async write(batches: Map<string, TenantBatch>): Promise<void> {
    for (const [tenant, b] of batches) {
      await this.options.store.tenantTransaction(tenant, async (tx) => {
        if (!this.knownTenants.has(tenant)) {
          await tx.query('INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
        }
        if (b.spans.length > 0) await tx.query(SPAN_INSERT, [tenant, ...SPAN_COLUMNS.map(([n]) => b.spans.map((r) => r[n]))]);
        if (b.logs.length > 0) await tx.query(LOG_INSERT, [tenant, ...LOG_COLUMNS.map(([n]) => b.logs.map((r) => r[n]))]);
      });
      this.knownTenants.add(tenant);
    }
  }
}
