/**
 * A small pool of worker threads that prepare large OTLP requests (decode, judge, scrub,
 * encode, index rows: `prepareRequest`) off the event loop, so a 16 MiB body does not stall the
 * API, the probes or the other requests. Each worker takes one request at a time:
 *
 *   task (body transferred) → census → the caller admits the decoded size (or refuses) → go
 *   → prepared request back (payload transferred, many rows in acknowledged chunks).
 *
 * Requests wait in a bounded queue when every worker is busy; past it they are refused with
 * 503 + Retry-After. A worker that crashes, runs out of its heap or overruns the task timeout is
 * terminated and replaced; its request is answered 503 (retryable), never left hanging. Workers
 * start on first use, stop after a while idle (which also hands a big request's heap back to
 * the system), and are terminated by `close()`. If workers cannot start at all, the pool says so
 * (`available` false) and the caller prepares on the event loop instead.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger, ScrubPolicy } from '@stellaops/telemetry-core';
import { OtlpError, type OtlpErrorCode } from './otlp-error.js';
import type { OtlpFormat, PreparedRequest, PrepareLimits } from './otlp-prepare.js';
import type { Signal } from '../segments/signal-records.js';
import type { Census, CensusLimits } from './request-census.js';
import type { LogRow, MetricRow, SpanRow } from '../segments/index-rows.js';

export interface PrepareWorkerData {
  /** URL of the TypeScript worker module the entry imports. */
  entry: string;
  scrubPolicy?: ScrubPolicy;
}

export interface WorkerTask {
  type: 'task';
  id: number;
  tenant: string;
  signal: Signal;
  format: OtlpFormat;
  body: Uint8Array;
  receivedAtMs: number;
  limits: PrepareLimits;
  census: CensusLimits;
}

export type ToWorker = WorkerTask | { type: 'go' | 'cancel' | 'more'; id: number };

export interface WorkerError {
  code?: OtlpErrorCode;
  message: string;
  retryAfterSeconds?: number;
  name?: string;
  stack?: string;
}

export type FromWorker =
  | { type: 'ready'; id?: undefined }
  | { type: 'census'; id: number; census: Census }
  | { type: 'rows'; id: number; traceIds?: string[]; spans?: SpanRow[]; logs?: LogRow[]; metrics?: MetricRow[] }
  | { type: 'done'; id: number; prepared: PreparedRequest }
  | { type: 'error'; id: number; error: WorkerError };

export interface PrepareRequest {
  tenant: string;
  signal: Signal;
  format: OtlpFormat;
  /** The decompressed body; its memory moves to the worker (do not use it afterwards). */
  body: Uint8Array;
  receivedAtMs: number;
  limits: PrepareLimits;
  census: CensusLimits;
}

export interface PreparePoolOptions {
  logger: Logger;
  /** Worker threads. Default max(1, availableParallelism() - 1). */
  size?: number;
  /** Requests waiting for a worker before new ones get 503. Default 4 per worker. */
  queueLimit?: number;
  /** Old-generation heap of each worker in MiB; a worker past it is replaced and its request gets 503. Default 512. */
  heapLimitMb?: number;
  /** Longest a worker may take over one request, from when it is ready. Default 60000. */
  taskTimeoutMs?: number;
  /** Longest a new worker may take to load before it counts as failed to start. Default 30000. */
  startTimeoutMs?: number;
  /** Idle time after which a worker stops (a new one starts on demand). Default 30000. */
  idleTimeoutMs?: number;
  /** The scrub policy the workers' scrubber compiles (the same as the event loop's). Default: the default policy. */
  scrubPolicy?: ScrubPolicy;
}

interface Job {
  id: number;
  /** Body size (the body itself moves to the worker). */
  bytes: number;
  request: PrepareRequest;
  onCensus: (census: Census) => void;
  resolve: (prepared: PreparedRequest) => void;
  reject: (error: unknown) => void;
  rows: { traceIds: string[]; spans: SpanRow[]; logs: LogRow[]; metrics?: MetricRow[] };
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  idle: NodeJS.Timeout | undefined;
  gone: boolean;
}

// Compiled (dist/), the worker thread starts the compiled prepare-worker.js as plain Node. From the
// TypeScript sources (tsx, vitest), it starts prepare-worker-entry.mjs, which registers tsx before
// importing prepare-worker.ts, and resolves the workspace packages to their sources too.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCES ? './prepare-worker.ts' : './prepare-worker.js', import.meta.url).href;
const ENTRY = FROM_SOURCES ? new URL('./prepare-worker-entry.mjs', import.meta.url) : new URL(WORKER);
const WORKER_EXEC_ARGV = FROM_SOURCES ? ['--conditions=@stellaops/source'] : [];

/** Default number of workers: every core but one (the event loop's), at least one. */
export function defaultPrepareWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

function unavailable(why: string): OtlpError {
  return new OtlpError('otlp.unavailable', `${why}; retry after the delay`, 1);
}

/** The request's bytes in a buffer of their own, so they move to the worker without a copy of a larger buffer. */
function ownedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes;
  return new Uint8Array(bytes);
}

export function errorFromWorker(error: WorkerError): Error {
  if (error.code) return new OtlpError(error.code, error.message, error.retryAfterSeconds);
  const e = new Error(error.message);
  if (error.name) e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}

export class PreparePool {
  readonly size: number;
  readonly queueLimit: number;
  private readonly heapLimitMb: number;
  private readonly taskTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers that failed before they were ready, in a row. */
  private startFailures = 0;
  private disabled = false;
  /** Workers replaced after a crash, timeout or heap exhaustion (for tests and the log). */
  replaced = 0;

  constructor(private readonly options: PreparePoolOptions) {
    this.size = Math.max(1, options.size ?? defaultPrepareWorkers());
    this.queueLimit = Math.max(0, options.queueLimit ?? 4 * this.size);
    this.heapLimitMb = options.heapLimitMb ?? 512;
    this.taskTimeoutMs = options.taskTimeoutMs ?? 60_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** False once workers have failed to start twice in a row, or after `close()`. */
  get available(): boolean {
    return !this.disabled && !this.closed;
  }

  /** Requests being prepared or waiting. */
  get pending(): number {
    let busy = 0;
    for (const slot of this.slots) if (slot.job) busy++;
    return busy + this.queue.length;
  }

  /** Worker threads alive now. */
  get workers(): number {
    return this.slots.size;
  }

  /**
   * Prepares one request in a worker. `onCensus` runs on the event loop with the request's
   * counts before it is decoded; if it throws (a limit, the memory budget), the request stops
   * there and the promise rejects with that error. Rejects with `OtlpError`.
   */
  prepare(request: PrepareRequest, onCensus: (census: Census) => void): Promise<PreparedRequest> {
    if (!this.available) return Promise.reject(unavailable('the OTLP prepare workers are not running'));
    const idle = [...this.slots].some((s) => !s.job && !s.gone);
    if (!idle && this.slots.size >= this.size && this.queue.length >= this.queueLimit) {
      return Promise.reject(new OtlpError('otlp.overloaded', `all ${this.size} OTLP prepare workers are busy and ${this.queueLimit} requests are waiting`, 1));
    }
    return new Promise<PreparedRequest>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes: request.body.byteLength, request: { ...request, body: ownedBytes(request.body) }, onCensus, resolve, reject, rows: { traceIds: [], spans: [], logs: [] } });
      this.dispatch();
    });
  }

  /** Terminates the workers; requests in progress or waiting get 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable('the OTLP receiver is shutting down'));
    const exits: Promise<number>[] = [];
    for (const slot of this.slots) {
      this.settle(slot, unavailable('the OTLP receiver is shutting down'));
      exits.push(this.retire(slot));
    }
    await Promise.all(exits);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = [...this.slots].find((s) => !s.job && !s.gone);
      if (!slot) {
        if (this.slots.size >= this.size || this.disabled) return;
        slot = this.spawn();
        if (!slot) return;
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(ENTRY, {
        workerData: { entry: WORKER, scrubPolicy: this.options.scrubPolicy } satisfies PrepareWorkerData,
        execArgv: WORKER_EXEC_ARGV,
        resourceLimits: { maxOldGenerationSizeMb: this.heapLimitMb },
      });
    } catch (error) {
      this.startFailed(error);
      return undefined;
    }
    worker.unref();
    const slot: Slot = { worker, ready: false, job: undefined, timer: undefined, idle: undefined, gone: false };
    this.slots.add(slot);
    // Until it is ready, `idle` guards the start: a worker that never loads fails like one that crashes.
    slot.idle = setTimeout(() => {
      this.onFailure(slot, new Error(`the prepare worker did not start within ${this.startTimeoutMs} ms`));
      slot.worker.terminate().catch(() => undefined); // an exit is what is wanted; its failure is the 'exit' handler's
    }, this.startTimeoutMs);
    slot.idle.unref();
    worker.on('message', (message: FromWorker) => this.onMessage(slot, message));
    worker.on('error', (error: Error) => this.onFailure(slot, error));
    worker.on('exit', (code) => this.onFailure(slot, new Error(`the prepare worker exited with code ${code}`)));
    return slot;
  }

  private assign(slot: Slot, job: Job): void {
    if (slot.ready) {
      clearTimeout(slot.idle);
      slot.idle = undefined;
    }
    slot.job = job;
    if (slot.ready) this.startTimer(slot, job);
    const { body } = job.request;
    const task: WorkerTask = { type: 'task', id: job.id, ...job.request };
    slot.worker.postMessage(task, [body.buffer as ArrayBuffer]);
  }

  /** The task timeout runs from when the worker is ready, so a slow start is not a slow request. */
  private startTimer(slot: Slot, job: Job): void {
    slot.timer = setTimeout(() => {
      this.options.logger.error({ error_code: 'otlp.prepare_timeout', details: { timeout_ms: this.taskTimeoutMs, bytes: job.bytes } }, 'an OTLP prepare worker overran its time; replacing it');
      this.settle(slot, unavailable('preparing the request took too long'));
      this.replaced++;
      this.retire(slot).catch((error: unknown) => this.options.logger.error({ err: error }, 'retiring an OTLP prepare worker failed'));
      this.dispatch();
    }, this.taskTimeoutMs);
    slot.timer.unref();
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      clearTimeout(slot.idle);
      slot.idle = undefined;
      if (slot.job) this.startTimer(slot, slot.job);
      return;
    }
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    switch (message.type) {
      case 'census':
        try {
          job.onCensus(message.census);
        } catch (error) {
          slot.worker.postMessage({ type: 'cancel', id: job.id } satisfies ToWorker);
          this.settle(slot, error);
          this.release(slot);
          return;
        }
        slot.worker.postMessage({ type: 'go', id: job.id } satisfies ToWorker);
        return;
      case 'rows':
        // Concatenated a chunk at a time, one event each, so the event loop stays free.
        if (message.traceIds) for (const r of message.traceIds) job.rows.traceIds.push(r);
        if (message.spans) for (const r of message.spans) job.rows.spans.push(r);
        if (message.logs) for (const r of message.logs) job.rows.logs.push(r);
        if (message.metrics) for (const r of message.metrics) (job.rows.metrics ??= []).push(r);
        slot.worker.postMessage({ type: 'more', id: job.id } satisfies ToWorker);
        return;
      case 'done': {
        const { prepared } = message;
        const rows = job.rows;
        for (const r of prepared.rows.traceIds) rows.traceIds.push(r);
        for (const r of prepared.rows.spans) rows.spans.push(r);
        for (const r of prepared.rows.logs) rows.logs.push(r);
        if (prepared.rows.metrics) for (const r of prepared.rows.metrics) (rows.metrics ??= []).push(r);
        if (prepared.rows.metrics && !rows.metrics) rows.metrics = [];
        const result: PreparedRequest = { ...prepared, rows };
        this.settle(slot, undefined, result);
        this.release(slot);
        return;
      }
      case 'error':
        this.settle(slot, errorFromWorker(message.error));
        this.release(slot);
        return;
    }
  }

  /** Resolves or rejects the slot's job, once. */
  private settle(slot: Slot, error: unknown, prepared?: PreparedRequest): void {
    const job = slot.job;
    if (!job) return;
    slot.job = undefined;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (prepared) job.resolve(prepared);
    else job.reject(error);
  }

  /** The slot is free: take the next request, or stop after a while idle. */
  private release(slot: Slot): void {
    this.dispatch();
    if (slot.job || slot.gone || this.closed) return;
    clearTimeout(slot.idle);
    slot.idle = setTimeout(() => {
      this.retire(slot).catch((error: unknown) => this.options.logger.error({ err: error }, 'retiring an idle OTLP prepare worker failed'));
    }, this.idleTimeoutMs);
    slot.idle.unref();
  }

  private onFailure(slot: Slot, error: Error): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.delete(slot);
    clearTimeout(slot.idle);
    if (this.closed) return;
    if (!slot.ready) {
      this.startFailed(error);
    } else {
      this.replaced++;
      const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.options.logger.error(
        { err: error, error_code: oom ? 'otlp.prepare_worker_oom' : 'otlp.prepare_worker_failed', details: { heap_limit_mb: this.heapLimitMb } },
        'an OTLP prepare worker stopped; its request is answered 503 and a new worker takes the next one',
      );
    }
    this.settle(slot, unavailable(slot.ready ? 'the request could not be prepared (the worker stopped)' : 'the OTLP prepare worker could not start'));
    this.dispatch();
  }

  private startFailed(error: unknown): void {
    this.startFailures++;
    if (this.startFailures >= 2 && !this.disabled) {
      this.disabled = true;
      this.options.logger.error({ err: error, error_code: 'otlp.prepare_workers_unavailable' }, 'OTLP prepare workers cannot start; large requests are prepared on the event loop');
      for (const job of this.queue.splice(0)) job.reject(unavailable('the OTLP prepare workers are not running'));
    } else {
      this.options.logger.error({ err: error, error_code: 'otlp.prepare_worker_failed' }, 'an OTLP prepare worker could not start');
    }
  }

  private retire(slot: Slot): Promise<number> {
    slot.gone = true;
    this.slots.delete(slot);
    clearTimeout(slot.idle);
    clearTimeout(slot.timer);
    return slot.worker.terminate();
  }
}
