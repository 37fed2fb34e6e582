/**
 * A prepare worker thread: counts one request (request-census.ts), waits for the main thread to
 * admit the decoded size into its memory budget, then runs `prepareRequest` and sends the result
 * back — the payload's bytes transferred, large row lists in acknowledged chunks so the main
 * thread deserialises them a piece at a time. One request at a time; started by prepare-pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileScrubPolicy } from '@stellaops/telemetry-core';
import { OtlpError } from './otlp-error.js';
import { prepareRequest, type PreparedRequest } from './otlp-prepare.js';
import { OtlpScrubber } from './otlp-scrub.js';
import type { FromWorker, ToWorker, WorkerTask, PrepareWorkerData, WorkerError } from './prepare-pool.js';
import { requestCensus } from './request-census.js';

const port = parentPort!;
const data = workerData as PrepareWorkerData;
const policy = data.scrubPolicy ?? {};
// A Buffer crosses threads as a plain Uint8Array.
if (policy.hashKey instanceof Uint8Array && !Buffer.isBuffer(policy.hashKey)) policy.hashKey = Buffer.from(policy.hashKey);
const scrubber = new OtlpScrubber(compileScrubPolicy(policy));

/** Rows per chunk message when a result carries many rows. */
const ROWS_PER_CHUNK = 4096;

let current: WorkerTask | undefined;
/** Row chunks of the finished request still to send, one per acknowledgement. */
let chunks: FromWorker[] = [];
let last: FromWorker | undefined;
let lastTransfer: ArrayBuffer[] = [];

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function serialise(error: unknown): WorkerError {
  if (error instanceof OtlpError) {
    const prefix = `${error.code}: `;
    return { code: error.code, message: error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message, retryAfterSeconds: error.retryAfterSeconds };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { message: e.message, name: e.name, stack: e.stack };
}

/** A copy of `bytes` that owns its whole ArrayBuffer, so it can be transferred. */
function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes;
  return new Uint8Array(bytes);
}

function finish(id: number, prepared: PreparedRequest): void {
  const payload = owned(prepared.payload);
  const { traceIds, spans, logs, metrics } = prepared.rows;
  chunks = [];
  const split = <T>(list: T[], wrap: (part: T[]) => FromWorker): T[] => {
    if (list.length <= ROWS_PER_CHUNK) return list;
    for (let i = 0; i < list.length; i += ROWS_PER_CHUNK) chunks.push(wrap(list.slice(i, i + ROWS_PER_CHUNK)));
    return [];
  };
  const rows = {
    traceIds: split(traceIds, (part) => ({ type: 'rows', id, traceIds: part })),
    spans: split(spans, (part) => ({ type: 'rows', id, spans: part })),
    logs: split(logs, (part) => ({ type: 'rows', id, logs: part })),
    ...(metrics ? { metrics: split(metrics, (part) => ({ type: 'rows', id, metrics: part })) } : {}),
  };
  last = { type: 'done', id, prepared: { ...prepared, payload, rows } };
  lastTransfer = [payload.buffer as ArrayBuffer];
  sendNext(id);
}

function sendNext(id: number): void {
  const chunk = chunks.shift();
  if (chunk) return post(chunk);
  if (last && last.id === id) {
    const message = last;
    const transfer = lastTransfer;
    last = undefined;
    lastTransfer = [];
    current = undefined;
    post(message, transfer);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'task') {
    current = message;
    try {
      post({ type: 'census', id: message.id, census: requestCensus(message.signal, message.body, message.format, message.census) });
    } catch (error) {
      current = undefined;
      post({ type: 'error', id: message.id, error: serialise(error) });
    }
    return;
  }
  if (message.type === 'cancel') {
    if (current?.id === message.id) current = undefined;
    return;
  }
  if (message.type === 'more') {
    sendNext(message.id);
    return;
  }
  // 'go': the main thread has admitted the request.
  const task = current;
  if (!task || task.id !== message.id) return;
  let prepared: PreparedRequest;
  try {
    prepared = prepareRequest(task.tenant, task.signal, task.body, task.format, scrubber, task.receivedAtMs, task.limits);
  } catch (error) {
    current = undefined;
    post({ type: 'error', id: task.id, error: serialise(error) });
    return;
  }
  finish(task.id, prepared);
});

post({ type: 'ready' });
