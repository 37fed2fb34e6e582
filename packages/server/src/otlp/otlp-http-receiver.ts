/**
 * OTLP/HTTP (STO-2) on its own port (4318): `POST /v1/traces|metrics|logs`, bodies in
 * `application/x-protobuf` or `application/json`, optionally gzip. Plain node:http rather than
 * the API's Fastify app: the hot path is read body → decode → append, and every response has
 * the OTLP shape (an Export*ServiceResponse, or a google.rpc.Status for errors) in the
 * request's own encoding. Memory is bounded like the Collector's memory_limiter, by what each
 * request actually holds (inflight-budget.ts): the body as it arrives, the decompressed body as
 * it is inflated (streamed, so a gzip bomb stops at the size limit or the budget, whichever
 * comes first), then the decoded size its census predicts; past the budget new requests get
 * 503 + Retry-After. Census, prepare and store are request-pipeline.ts. Refusals are mapped
 * through the error catalogue (errors.ts, via `toOtlpError`): the HTTP status, a
 * `google.rpc.Status` body with the gRPC code, `x-stella-error-code`, and `Retry-After` when
 * retryable.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGunzip, createInflate } from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import type { Logger } from '@stellaops/telemetry-core';
import type { OtlpAuthenticator } from './otlp-auth.js';
import { OtlpError, toOtlpError } from './otlp-error.js';
import type { OtlpFormat } from './otlp-ingest.js';
import { encodeResponse, responseObject } from './otlp-proto.js';
import { type Signal } from '../segments/signal-records.js';
import type { InflightBudget, Reservation } from './inflight-budget.js';
import type { RequestPipeline } from './request-pipeline.js';

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export interface OtlpHttpReceiverOptions {
  pipeline: RequestPipeline;
  auth: OtlpAuthenticator;
  logger: Logger;
  /** Largest body, compressed or decompressed, in bytes. */
  maxMessageBytes: number;
  /** Memory held by requests in progress (shared with OTLP/gRPC). */
  budget: InflightBudget;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } — the OTLP error body. */
function encodeStatus(code: number, message: string): Uint8Array {
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32(8).int32(code);
  if (message) w.uint32(18).string(message);
  return w.finish();
}

/** Joins body chunks; the copy and the chunks coexist for a moment, so the copy is reserved while it is made. */
function join(parts: Buffer[], size: number, reservation: Reservation): Buffer {
  if (parts.length === 1) return parts[0]!;
  reservation.add(size);
  const joined = Buffer.concat(parts, size);
  parts.length = 0;
  reservation.subtract(size);
  return joined;
}

function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

export class OtlpHttpReceiver {
  private server: Server | undefined;

  constructor(private readonly options: OtlpHttpReceiverOptions) {}

  /** Listens; resolves to the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 }, (req, res) => {
      // handle() answers every failure itself; anything escaping it is a defect: logged, counted, the socket closed.
      this.handle(req, res).catch((error: unknown) => {
        this.options.logger.error({ err: error, route: req.url?.slice(0, 100) }, 'OTLP request handler failed unexpectedly');
        this.options.pipeline.countRefusal('traces', error);
        res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Exporters keep connections alive between batches; requests in flight get a moment to finish.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const signal = PATHS[path];
    const format = formatOf(req.headers['content-type']) ?? 'protobuf';
    const { pipeline, maxMessageBytes } = this.options;
    const reservation = this.options.budget.open();
    let tenant: string | undefined;
    try {
      if (!signal) throw new OtlpError('otlp.not_found', `no OTLP endpoint ${path.slice(0, 100)}; use /v1/traces, /v1/metrics or /v1/logs`);
      if (req.method !== 'POST') throw new OtlpError('otlp.method_not_allowed', `${req.method} is not allowed; OTLP/HTTP uses POST`);
      if (!formatOf(req.headers['content-type'])) {
        throw new OtlpError('otlp.unsupported_media_type', 'send Content-Type application/x-protobuf or application/json');
      }
      const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
      if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') {
        throw new OtlpError('otlp.unsupported_encoding', `Content-Encoding "${encoding.slice(0, 40)}" is not supported; use gzip or none`);
      }
      const auth = req.headers.authorization;
      const tenantHeader = req.headers['x-stella-tenant'];
      const caller = await this.options.auth.authenticate(auth, Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader, `POST ${path}`);
      tenant = caller.tenant;

      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxMessageBytes) {
        throw new OtlpError('otlp.body_too_large', `the body is ${declared} bytes; the limit is ${maxMessageBytes}`);
      }
      // The declared body up front (a refusal before anything is read), then whatever arrives beyond it.
      if (declared > 0) reservation.add(declared);
      let body = await this.readBody(req, reservation, declared);
      if (encoding !== 'identity') {
        const compressed = Math.max(body.length, declared);
        // Reassigned, so the compressed bytes are garbage once inflated.
        body = await this.decompress(body, encoding, reservation);
        reservation.subtract(compressed);
      }
      const result = await pipeline.process(caller.tenant, signal, body, format, reservation);
      this.reply(res, 200, format, signal, result.rejected, result.message);
    } catch (error) {
      const e = toOtlpError(error);
      if (e.code === 'otlp.internal') this.options.logger.error({ err: error, route: path }, 'OTLP request failed');
      pipeline.countRefusal(signal ?? 'traces', error, tenant);
      this.fail(req, res, format, e);
    } finally {
      reservation.release();
    }
  }

  /** Reads the body, adding what arrives beyond `declared` to the reservation. */
  private readBody(req: IncomingMessage, reservation: Reservation, declared: number): Promise<Buffer> {
    const max = this.options.maxMessageBytes;
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      const stop = (error: OtlpError): void => {
        req.removeAllListeners('data');
        reject(error);
      };
      req.on('data', (chunk: Buffer) => {
        const before = size;
        size += chunk.length;
        if (size > max) return stop(new OtlpError('otlp.body_too_large', `the body is larger than ${max} bytes`));
        if (size > declared) {
          try {
            reservation.add(size - Math.max(before, declared));
          } catch (error) {
            return stop(error as OtlpError);
          }
        }
        parts.push(chunk);
      });
      req.on('end', () => {
        try {
          resolve(join(parts, size, reservation));
        } catch (error) {
          reject(error);
        }
      });
      req.on('error', (cause) => reject(new OtlpError('otlp.malformed_protobuf', `the body could not be read: ${cause.message}`, undefined, { cause })));
    });
  }

  /**
   * Inflates a gzip or deflate body as a stream, holding in the reservation what it has produced
   * and stopping the moment the output passes the size limit, so a bomb costs at most the limit
   * (or the budget), never its full expansion. A gzip body states its size in its trailer
   * (ISIZE, the size modulo 2^32, so never less than the last member's true size): a stated size
   * over the limit is refused before inflating, and an honest one is reserved up front (a busy
   * receiver refuses before doing the work) and inflated into one buffer of that size.
   */
  private decompress(raw: Buffer, encoding: 'gzip' | 'deflate', reservation: Reservation): Promise<Buffer> {
    const max = this.options.maxMessageBytes;
    const stated = encoding === 'gzip' && raw.length >= 18 && raw[0] === 0x1f && raw[1] === 0x8b ? raw.readUInt32LE(raw.length - 4) : 0;
    if (stated > max) {
      return Promise.reject(new OtlpError('otlp.decompressed_too_large', `the body decompresses to ${stated} bytes (gzip trailer); the limit is ${max}`));
    }
    return new Promise((resolve, reject) => {
      try {
        reservation.add(stated);
      } catch (error) {
        return reject(error);
      }
      let reserved = stated;
      let target: Buffer | undefined = stated > 0 ? Buffer.allocUnsafe(stated) : undefined;
      const parts: Buffer[] = [];
      let size = 0;
      let done = false;
      const stream = encoding === 'gzip' ? createGunzip({ chunkSize: 64 * 1024 }) : createInflate({ chunkSize: 64 * 1024 });
      const stop = (error: OtlpError): void => {
        if (done) return;
        done = true;
        stream.destroy();
        reject(error);
      };
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        const at = size;
        size += chunk.length;
        if (size > max) return stop(new OtlpError('otlp.decompressed_too_large', `the body decompresses to more than ${max} bytes`));
        if (target && size <= target.length) {
          chunk.copy(target, at);
          return;
        }
        if (target) {
          // The trailer understated the size: keep what is filled and collect chunks from here.
          parts.push(target.subarray(0, at));
          target = undefined;
        }
        if (size > reserved) {
          try {
            reservation.add(size - reserved);
          } catch (error) {
            return stop(error as OtlpError);
          }
          reserved = size;
        }
        parts.push(chunk);
      });
      stream.on('end', () => {
        if (done) return;
        done = true;
        if (reserved > size) reservation.subtract(reserved - size);
        if (target) return resolve(size === target.length ? target : target.subarray(0, size));
        try {
          resolve(join(parts, size, reservation));
        } catch (error) {
          reject(error);
        }
      });
      stream.on('error', (cause) => stop(new OtlpError('otlp.malformed_gzip', `the body is not valid ${encoding}: ${cause.message}`, undefined, { cause })));
      stream.end(raw);
    });
  }

  private reply(res: ServerResponse, status: number, format: OtlpFormat, signal: Signal, rejected: number, message: string | undefined): void {
    const body = format === 'json' ? Buffer.from(JSON.stringify(responseObject(signal, rejected, message))) : Buffer.from(encodeResponse(signal, rejected, message));
    res.writeHead(status, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf', 'content-length': body.length });
    res.end(body);
  }

  private fail(req: IncomingMessage, res: ServerResponse, format: OtlpFormat, error: OtlpError): void {
    const body = format === 'json' ? Buffer.from(JSON.stringify({ code: error.grpcCode, message: error.message })) : Buffer.from(encodeStatus(error.grpcCode, error.message));
    const headers: Record<string, string | number> = {
      'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf',
      'content-length': body.length,
      'x-stella-error-code': error.code,
    };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    // An unread oversize body would otherwise keep the socket busy: answer and close.
    if (!req.complete) headers['connection'] = 'close';
    res.writeHead(error.httpStatus, headers);
    res.end(body);
    if (!req.complete) req.resume();
  }
}
