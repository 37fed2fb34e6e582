/**
 * OTLP/HTTP (STO-2) on its own port (4318): `POST /v1/traces|metrics|logs`, bodies in
 * `application/x-protobuf` or `application/json`, optionally gzip. Plain node:http rather than
 * the API's Fastify app: the hot path is read body → decode → append, and every response has
 * the OTLP shape (an Export*ServiceResponse, or a google.rpc.Status for errors) in the
 * request's own encoding. Memory is bounded like the Collector's memory_limiter: bytes held
 * by requests in progress are counted, and past the limit new requests get 503 + Retry-After.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import protobuf from 'protobufjs/minimal.js';
import type { Logger } from '@stellaops/telemetry-core';
import type { OtlpAuthenticator } from './otlp-auth.js';
import { OtlpError } from './otlp-error.js';
import type { OtlpFormat, OtlpIngestor } from './otlp-ingest.js';
import { encodeResponse, responseObject, type Signal } from './otlp-proto.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export interface OtlpHttpReceiverOptions {
  ingestor: OtlpIngestor;
  auth: OtlpAuthenticator;
  logger: Logger;
  /** Largest body, compressed or not, in bytes. */
  maxMessageBytes: number;
  /** Bytes held by requests in progress before new ones are refused with 503. */
  maxInflightBytes: number;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } — the OTLP error body. */
function encodeStatus(code: number, message: string): Uint8Array {
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32(8).int32(code);
  if (message) w.uint32(18).string(message);
  return w.finish();
}

function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

export class OtlpHttpReceiver {
  private server: Server | undefined;
  private inflight = 0;

  constructor(private readonly options: OtlpHttpReceiverOptions) {}

  /** Listens; resolves to the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 }, (req, res) => {
      void this.handle(req, res);
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
    let held = 0;
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

      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > this.options.maxMessageBytes) {
        throw new OtlpError('otlp.body_too_large', `the body is ${declared} bytes; the limit is ${this.options.maxMessageBytes}`);
      }
      // Reserve the worst case up front so concurrent requests cannot jointly overshoot.
      held = Math.min(this.options.maxMessageBytes, Math.max(declared, 64 * 1024)) * (encoding === 'identity' ? 1 : 2);
      if (this.inflight + held > this.options.maxInflightBytes) {
        held = 0;
        throw new OtlpError('otlp.overloaded', 'the receiver is at its memory limit; retry after the delay', 1);
      }
      this.inflight += held;
      const raw = await this.readBody(req);
      let body: Buffer = raw;
      if (encoding !== 'identity') {
        try {
          body = await (encoding === 'gzip' ? gunzipAsync : inflateAsync)(raw, { maxOutputLength: this.options.maxMessageBytes });
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
            throw new OtlpError('otlp.decompressed_too_large', `the body decompresses to more than ${this.options.maxMessageBytes} bytes`, undefined, { cause });
          }
          throw new OtlpError('otlp.malformed_gzip', `the body is not valid ${encoding}: ${(cause as Error).message}`, undefined, { cause });
        }
      }
      const result = await this.options.ingestor.ingest(caller.tenant, signal, body, format);
      this.reply(res, 200, format, signal, result.rejected, result.message);
    } catch (error) {
      const e = error instanceof OtlpError ? error : new OtlpError('otlp.internal', 'internal error; the service log has the details', undefined, { cause: error });
      if (e.code === 'otlp.internal') this.options.logger.error({ err: error, route: path }, 'OTLP request failed');
      if (!(error instanceof OtlpError) || ['otlp.not_found', 'otlp.method_not_allowed', 'otlp.unsupported_media_type', 'otlp.unsupported_encoding', 'otlp.body_too_large'].includes(e.code)) {
        this.options.ingestor.countRefusal(signal ?? 'traces', e.code);
      }
      this.fail(req, res, format, e);
    } finally {
      this.inflight -= held;
    }
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.options.maxMessageBytes;
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          req.removeAllListeners('data');
          reject(new OtlpError('otlp.body_too_large', `the body is larger than ${max} bytes`));
          return;
        }
        parts.push(chunk);
      });
      req.on('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)));
      req.on('error', (cause) => reject(new OtlpError('otlp.malformed_protobuf', `the body could not be read: ${cause.message}`, undefined, { cause })));
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
