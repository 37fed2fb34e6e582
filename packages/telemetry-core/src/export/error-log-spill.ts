/**
 * Error-level log records that could not be delivered (collector down, queue full) are
 * appended to a local spill directory — bounded in bytes, rotated across a fixed number of
 * files — and re-sent once when the endpoint is back. A file is deleted as soon as its
 * records are handed back to the pipeline, so a record is re-sent once; if that export
 * fails too, the record is spilled again rather than lost. Each spilled record carries its
 * `log.record.uid`, so a receiver can still de-duplicate the rare case where a collector
 * accepted a batch but the response never arrived.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryStats } from './telemetry-stats.js';

/** One spilled record, as written to disk (one JSON object per line). */
export interface SpilledLogRecord {
  /** Epoch milliseconds of the original record. */
  ts: number;
  severity_number: number;
  severity_text?: string;
  body?: unknown;
  attributes: Record<string, unknown>;
  trace_id?: string;
  span_id?: string;
  trace_flags?: number;
}

export interface ErrorLogSpillOptions {
  /** Directory for spill files (created if missing). */
  dir: string;
  /** Size at which the active file is rotated. Default 1 MiB. */
  maxFileBytes?: number;
  /** Files kept, including the active one; the oldest is discarded (and counted) beyond this. Default 8. */
  maxFiles?: number;
}

const ACTIVE = 'spill-active.ndjson';
const SEALED = /^spill-(\d{16})\.ndjson$/;

export class ErrorLogSpill {
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private activeBytes = 0;
  private seq = 0;

  constructor(
    private readonly options: ErrorLogSpillOptions,
    private readonly stats: TelemetryStats,
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.maxFiles = Math.max(2, options.maxFiles ?? 8);
    mkdirSync(options.dir, { recursive: true });
    // Records spilled by an earlier run of this process are still pending: keep them.
    try {
      this.activeBytes = statSync(join(options.dir, ACTIVE)).size;
    } catch {
      this.activeBytes = 0;
    }
    for (const f of this.sealedFiles()) this.seq = Math.max(this.seq, Number(SEALED.exec(f)?.[1] ?? 0));
    this.refreshPending();
  }

  /** Appends records; returns how many were written (0 if the disk refused). */
  append(records: readonly SpilledLogRecord[]): number {
    if (records.length === 0) return 0;
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    try {
      if (this.activeBytes > 0 && this.activeBytes + bytes > this.maxFileBytes) this.rotate();
      appendFileSync(join(this.options.dir, ACTIVE), text);
      this.activeBytes += bytes;
      this.stats.spillWritten += records.length;
      this.stats.spillPendingBytes += bytes;
      this.enforceBound();
      return records.length;
    } catch {
      return 0;
    }
  }

  /** True when records are waiting to be re-sent. */
  get pending(): boolean {
    return this.stats.spillPendingBytes > 0;
  }

  /**
   * Takes the oldest spill file out of the directory and returns its records; the caller
   * re-emits them. Returns an empty list when nothing is pending.
   */
  takeOldest(): SpilledLogRecord[] {
    let file = this.sealedFiles()[0];
    if (file === undefined) {
      if (this.activeBytes === 0) return [];
      this.rotate();
      file = this.sealedFiles()[0];
      if (file === undefined) return [];
    }
    const path = join(this.options.dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
      rmSync(path, { force: true });
    } catch {
      return [];
    }
    this.stats.spillPendingBytes = Math.max(0, this.stats.spillPendingBytes - Buffer.byteLength(text));
    const out: SpilledLogRecord[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as SpilledLogRecord);
      } catch {
        // A torn last line (crash mid-append) is skipped, not re-sent as garbage.
      }
    }
    this.stats.spillResent += out.length;
    return out;
  }

  private rotate(): void {
    this.seq += 1;
    renameSync(join(this.options.dir, ACTIVE), join(this.options.dir, `spill-${String(this.seq).padStart(16, '0')}.ndjson`));
    this.activeBytes = 0;
  }

  private sealedFiles(): string[] {
    return readdirSync(this.options.dir)
      .filter((f) => SEALED.test(f))
      .sort();
  }

  /** Keeps at most `maxFiles` files: the oldest sealed files go first, counted as dropped. */
  private enforceBound(): void {
    const sealed = this.sealedFiles();
    let excess = sealed.length + 1 - this.maxFiles;
    for (const f of sealed) {
      if (excess <= 0) break;
      const path = join(this.options.dir, f);
      try {
        const text = readFileSync(path, 'utf8');
        rmSync(path, { force: true });
        this.stats.spillPendingBytes = Math.max(0, this.stats.spillPendingBytes - Buffer.byteLength(text));
        this.stats.drop('logs', 'spill_full', text.split('\n').filter((l) => l !== '').length);
      } catch {
        // Another process may have taken it; nothing to count.
      }
      excess -= 1;
    }
  }

  private refreshPending(): void {
    let total = this.activeBytes;
    for (const f of this.sealedFiles()) {
      try {
        total += statSync(join(this.options.dir, f)).size;
      } catch {
        // Vanished between listing and stat.
      }
    }
    this.stats.spillPendingBytes = total;
  }
}
