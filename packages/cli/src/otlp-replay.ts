/**
 * Re-sending a forensic capture's OTLP records (FOR-3), streamed: each `files/otlp/<signal>.pb`
 * entry (one Export*ServiceRequest) is split into its top-level resource entries (field 1:
 * ResourceSpans, ResourceMetrics, ResourceLogs) as its bytes arrive, without decoding them;
 * consecutive entries form each request, up to a byte budget, re-sent as is over OTLP/HTTP
 * protobuf with bounded concurrency. Reading waits while the requests queued are at their bound,
 * so memory stays bounded whatever the capture's size. Nothing is sent before the sealed-mode
 * egress guard clears the endpoint (`replay-egress.ts`): on a sealed host, loopback or the
 * telemetry policy's allowlist only. Loaded only by `stella telemetry replay` (protobufjs is not
 * loaded for --help or other commands).
 */
import protobuf from 'protobufjs/minimal.js';
import { CliError, EXIT } from './output.js';
import type { Progress } from './progress.js';
import { clearReplayEndpoint } from './replay-egress.js';

export { clearReplayEndpoint } from './replay-egress.js';

const { Reader } = protobuf;

export const SIGNALS = ['traces', 'metrics', 'logs'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Field 1, wire type 2 (length-delimited): a resource entry of an Export*ServiceRequest. */
const RESOURCE_ENTRY_TAG = (1 << 3) | 2;
/** A tag (at most 5 bytes) and a length (at most 10) always fit in this many bytes. */
const HEAD_BYTES = 16;

function corrupt(message: string): CliError {
  return new CliError('bundle_corrupt', message, { exitCode: EXIT.invalid });
}

/**
 * Splits the bytes of one Export*ServiceRequest, fed in any pieces, into its resource entries
 * (each with its tag and length, so a concatenation of them is again a valid request).
 */
export class ExportRequestSplitter {
  /** Chunks not yet emitted, from `first` on (the ones before it were taken). */
  private chunks: Buffer[] = [];
  private first = 0;
  private buffered = 0;
  /** Bytes of the file already emitted. */
  private offset = 0;
  /** Length (tag, length and body) of the entry being collected, once its head is read; 0 before. */
  private pending = 0;

  /**
   * @param name the entry's name, for errors
   * @param size the entry's size in bytes (an entry declared to run past it is refused at once)
   */
  constructor(
    private readonly name: string,
    private readonly size: number,
    private readonly onEntry: (entry: Buffer) => void,
  ) {}

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.split(false);
  }

  end(): void {
    this.split(true);
    if (this.buffered > 0) throw corrupt(`${this.name} ends inside a resource entry (at byte ${this.offset})`);
  }

  private split(ended: boolean): void {
    while (this.buffered > 0) {
      if (this.pending === 0) {
        const total = this.readHead(ended);
        if (total === undefined) return; // the rest of the head is still to come
        this.pending = total;
      }
      if (this.buffered < this.pending) return;
      const total = this.pending;
      this.pending = 0;
      this.onEntry(this.take(total));
      this.offset += total;
    }
  }

  /** The whole length of the entry that starts the buffer (its tag and length read with protobufjs), or undefined while its head is incomplete. */
  private readHead(ended: boolean): number | undefined {
    const head = this.peek(Math.min(HEAD_BYTES, this.buffered));
    const reader = Reader.create(head);
    let length: number;
    try {
      const tag = reader.uint32();
      if (tag !== RESOURCE_ENTRY_TAG) {
        throw corrupt(`${this.name} has protobuf field key ${tag} at byte ${this.offset}; an OTLP export request holds resource entries (field 1) only`);
      }
      length = reader.uint32();
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      if (ended || head.length >= HEAD_BYTES) throw corrupt(`${this.name} has a truncated or over-long varint at byte ${this.offset}`);
      return undefined;
    }
    const total = reader.pos + length;
    if (this.offset + total > this.size) throw corrupt(`the resource entry at byte ${this.offset} of ${this.name} runs past its end`);
    return total;
  }

  /** The first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const parts: Buffer[] = [];
    let have = 0;
    for (let i = this.first; have < n; i++) {
      parts.push(this.chunks[i]!);
      have += this.chunks[i]!.length;
    }
    return (parts.length === 1 ? parts[0]! : Buffer.concat(parts, have)).subarray(0, n);
  }

  /** Consumes and returns the first `n` buffered bytes (a copy: the archive reader may reuse its buffers). */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.first]!;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.first++;
      else this.chunks[this.first] = chunk.subarray(part);
    }
    this.buffered -= n;
    // Drop the taken chunks in one go (what is left is at most the start of the next entries).
    this.chunks = this.chunks.slice(this.first);
    this.first = 0;
    return out;
  }
}

/** google.rpc.Status { int32 code = 1; string message = 2; }: the body of an OTLP/HTTP error answer. */
export function decodeStatusMessage(body: Uint8Array): string | undefined {
  try {
    const reader = Reader.create(body);
    let message: string | undefined;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      // bytes(), not string(): protobufjs's string() on a Buffer cuts a string short at the end instead of failing.
      if (tag >>> 3 === 2 && (tag & 7) === 2) message = Buffer.from(reader.bytes()).toString('utf8');
      else reader.skipType(tag & 7);
    }
    return message;
  } catch {
    return undefined;
  }
}

/** What an OTLP/HTTP endpoint said in an error answer: the JSON or protobuf Status message, else undefined. */
function answerMessage(res: Response, body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      const doc = JSON.parse(body.toString('utf8')) as { message?: unknown };
      return typeof doc.message === 'string' ? doc.message : undefined;
    } catch {
      return undefined;
    }
  }
  return decodeStatusMessage(body);
}

export interface ReplayOptions {
  /** OTLP/HTTP base URL (`/v1/<signal>` is added). */
  readonly to: string;
  /** Headers of every request (authorization, tenant, traceparent). */
  readonly headers: Readonly<Record<string, string>>;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Largest request body in bytes (a single larger entry is sent alone). */
  readonly batchBytes: number;
  /** Counts the bytes sent. */
  readonly progress: Progress;
  /** Attempts per request on 429, 502, 503, 504 or a network error. Default 5. */
  readonly attempts?: number;
  /**
   * Environment of the sealed-mode egress check (`STELLA_SEALED`, `STELLA_TELEMETRY_POLICY`):
   * no request leaves before the guard clears `to`, and a refusal fails the replay with nothing
   * sent. Default `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The OTLP/HTTP URL of a signal under a base URL (a URL already ending in /v1/<signal> is taken as the base). */
export function otlpUrl(to: string, signal: Signal): string {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new CliError('usage', `--to "${to}" is not a URL (e.g. http://127.0.0.1:4318)`);
  }
  const base = url.href.replace(/\/+$/, '').replace(/\/v1\/(traces|metrics|logs)$/, '');
  return `${base}/v1/${signal}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends the entries of a capture, signal by signal, in archive order. */
export class OtlpReplayer {
  readonly sent: Record<Signal, { requests: number; bytes: number }> = { traces: { requests: 0, bytes: 0 }, metrics: { requests: 0, bytes: 0 }, logs: { requests: 0, bytes: 0 } };
  private readonly queue: { url: string; signal: Signal; body: Buffer }[] = [];
  private inFlight = 0;
  private failure: unknown;
  private waiters: (() => void)[] = [];
  /** Settles once the egress guard has decided on `to`; every send waits for it. */
  private readonly cleared: Promise<void>;

  constructor(private readonly options: ReplayOptions) {
    otlpUrl(options.to, 'traces'); // refuses a bad --to before anything is read
    this.cleared = clearReplayEndpoint(options.to, options.env ?? process.env).then(
      () => undefined,
      (error: unknown) => {
        // Refused: stop reading and queueing at once; what is queued is never sent.
        this.failure ??= error;
        this.queue.length = 0;
        this.wake();
        throw error;
      },
    );
    this.cleared.catch(() => undefined); // observed by send() and drain()
  }

  /** A sink for one `<signal>.pb` entry of `size` bytes. */
  entry(signal: Signal, size: number): { write(chunk: Buffer): void; end(): void } {
    const url = otlpUrl(this.options.to, signal);
    let batch: Buffer[] = [];
    let batchSize = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.enqueue({ url, signal, body: Buffer.concat(batch, batchSize) });
      batch = [];
      batchSize = 0;
    };
    const splitter = new ExportRequestSplitter(`files/otlp/${signal}.pb`, size, (entry) => {
      if (batchSize + entry.length > this.options.batchBytes) flush();
      batch.push(entry);
      batchSize += entry.length;
    });
    return {
      write: (chunk) => splitter.write(chunk),
      end: () => {
        splitter.end();
        flush();
      },
    };
  }

  /** The chunks of `source`, each taken only when the send queue has room (and never after a send failed). */
  async *paced<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const chunk of source) {
      await this.room();
      yield chunk;
    }
  }

  /** Resolves once every queued request is sent; after a failure, once none is in flight, rejecting with the first failure. */
  async drain(): Promise<void> {
    await this.cleared.catch(() => undefined); // a refusal is this.failure (a capture with nothing to send is refused too)
    while (this.inFlight > 0 || (!this.failure && this.queue.length > 0)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Stops sending what is queued (for `reason`, unless a send failed first) and waits for the requests in flight. */
  async abort(reason: unknown): Promise<void> {
    this.failure ??= reason;
    this.queue.length = 0;
    await this.drain().catch(() => undefined);
  }

  /** Waits while the queue is at its bound. */
  private async room(): Promise<void> {
    while (!this.failure && this.queue.length + this.inFlight >= this.options.concurrency * 2) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private enqueue(request: { url: string; signal: Signal; body: Buffer }): void {
    this.queue.push(request);
    this.pump();
  }

  private pump(): void {
    while (!this.failure && this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const request = this.queue.shift()!;
      this.inFlight++;
      this.send(request).then(
        () => {
          this.sent[request.signal].requests++;
          this.sent[request.signal].bytes += request.body.length;
          this.options.progress.add(request.body.length);
        },
        (error: unknown) => {
          this.failure ??= error;
        },
      ).finally(() => {
        this.inFlight--;
        this.pump();
        this.wake();
      });
    }
  }

  private async send({ url, body }: { url: string; body: Buffer }): Promise<void> {
    await this.cleared;
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...this.options.headers } });
      } catch (cause) {
        if (attempt >= attempts) throw new CliError('target_unreachable', `cannot reach ${new URL(url).origin}: ${(cause as Error).message}`, { cause });
        await sleep(200 * 2 ** attempt);
        continue;
      }
      const answer = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
      if (res.ok) return;
      const retryable = res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504;
      if (!retryable || attempt >= attempts) {
        const code = res.headers.get('x-stella-error-code') ?? `http_${res.status}`;
        // Receivers may lead their message with the code itself; it is said once.
        const said = answerMessage(res, answer) ?? res.statusText;
        const message = said.startsWith(`${code}: `) ? said.slice(code.length + 2) : said;
        throw new CliError(code, `the OTLP endpoint ${url} answered ${res.status} ${code}: ${message}`);
      }
      const after = Number(res.headers.get('retry-after'));
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 200 * 2 ** attempt);
    }
  }
}
