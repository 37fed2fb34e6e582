/**
 * The streaming OTLP splitter and sender behind `stella telemetry replay`: resource entries come
 * out whole however the bytes are cut, a corrupt request is refused, and requests go out in
 * order, batched, within the concurrency, with the endpoint's own error code and message. On a
 * sealed host (STELLA_SEALED) the egress guard decides the endpoint before any request: loopback
 * (addresses, or names resolving only to loopback) passes, anything else is refused.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs/minimal.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError } from '../src/output.js';
import { clearReplayEndpoint, decodeStatusMessage, ExportRequestSplitter, OtlpReplayer } from '../src/otlp-replay.js';
import type { Progress } from '../src/progress.js';

/** A resource entry as it sits in an Export*ServiceRequest: field 1, length-delimited. */
function entry(payload: Buffer): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32(0x0a).bytes(payload).finish());
}

const payloads = [1, 5, 127, 128, 300, 16_384, 70_000].map((n) => randomBytes(n));
const entries = payloads.map(entry);
const request = Buffer.concat(entries);

function split(bytes: Buffer, pieces: number): Buffer[] {
  const out: Buffer[] = [];
  const splitter = new ExportRequestSplitter('files/otlp/traces.pb', bytes.length, (e) => out.push(e));
  for (let at = 0; at < bytes.length; at += pieces) splitter.write(bytes.subarray(at, at + pieces));
  splitter.end();
  return out;
}

describe('ExportRequestSplitter', () => {
  it('yields each resource entry whole, however the bytes arrive', () => {
    for (const pieces of [1, 2, 3, 7, 511, 4096, request.length]) {
      expect(split(request, pieces).map((b) => b.toString('hex')), `pieces of ${pieces}`).toEqual(entries.map((b) => b.toString('hex')));
    }
    expect(split(Buffer.alloc(0), 1)).toEqual([]);
  });

  it('refuses a request cut short, another field, or an entry declared past the end of the file', () => {
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
        return undefined;
      } catch (error) {
        return (error as CliError).code;
      }
    };
    expect(codeOf(() => split(request.subarray(0, request.length - 1), 4096))).toBe('bundle_corrupt');
    expect(codeOf(() => split(Buffer.concat([entries[0]!, Buffer.from([0x12, 0x01, 0x00])]), 4096))).toBe('bundle_corrupt');
    // Declares 300 bytes in a 10-byte file: refused at once, not buffered to the end.
    const lying = new ExportRequestSplitter('files/otlp/logs.pb', 10, () => undefined);
    expect(codeOf(() => lying.write(Buffer.from([0x0a, 0xac, 0x02, 1, 2, 3])))).toBe('bundle_corrupt');
  });
});

describe('decodeStatusMessage', () => {
  it('reads the message of a google.rpc.Status, and nothing from bytes that are not one', () => {
    const status = protobuf.Writer.create().uint32(0x08).int32(16).uint32(0x12).string('the token lacks stella:telemetry:write').finish();
    expect(decodeStatusMessage(status)).toBe('the token lacks stella:telemetry:write');
    expect(decodeStatusMessage(Buffer.from([0x12, 0x40, 0x41]))).toBeUndefined();
  });
});

describe('OtlpReplayer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function endpoint(answer: (req: IncomingMessage, body: Buffer) => { status: number; headers?: Record<string, string>; body?: Uint8Array }): Promise<string> {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const a = answer(req, Buffer.concat(parts));
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ? Buffer.from(a.body) : undefined);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const counting = (): Progress & { total: number } => {
    const p = { total: 0, add: (n: number) => void (p.total += n), finish: () => undefined };
    return p;
  };

  async function feed(replayer: OtlpReplayer, bytes: Buffer): Promise<void> {
    const sink = replayer.entry('traces', bytes.length);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
    }
    for await (const chunk of replayer.paced(chunks())) sink.write(chunk);
    sink.end();
    await replayer.drain();
  }

  it('sends the entries in order, in batches within the byte budget, never more in flight than asked', async () => {
    const bodies: Buffer[] = [];
    let inFlight = 0;
    let most = 0;
    const to = await endpoint((req, body) => {
      expect(req.url).toBe('/v1/traces');
      expect(req.headers['content-type']).toBe('application/x-protobuf');
      expect(req.headers['authorization']).toBe('Bearer t');
      bodies.push(body);
      return { status: 200 };
    });
    server!.on('request', () => {
      most = Math.max(most, ++inFlight);
    });
    server!.on('request', (_req, res) => res.on('finish', () => inFlight--));
    const progress = counting();
    const replayer = new OtlpReplayer({ to: `${to}/`, headers: { authorization: 'Bearer t' }, concurrency: 1, batchBytes: 20_000, progress });
    await feed(replayer, request);
    // With one in flight, the order is the bundle's; the big entry goes alone.
    expect(Buffer.concat(bodies).equals(request)).toBe(true);
    expect(bodies.every((b) => b.length <= 20_000 || split(b, b.length).length === 1)).toBe(true);
    expect(bodies.length).toBeGreaterThan(1);
    expect(most).toBe(1);
    expect(replayer.sent.traces).toEqual({ requests: bodies.length, bytes: request.length });
    expect(progress.total).toBe(request.length);
  });

  it("fails with the endpoint's error code and message (exit 2)", async () => {
    const to = await endpoint(() => ({
      status: 401,
      headers: { 'content-type': 'application/x-protobuf', 'x-stella-error-code': 'auth.token_missing' },
      body: protobuf.Writer.create().uint32(0x08).int32(16).uint32(0x12).string('no bearer token').finish(),
    }));
    const replayer = new OtlpReplayer({ to, headers: {}, concurrency: 2, batchBytes: 1024, progress: counting() });
    const error = await feed(replayer, request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'auth.token_missing', exitCode: 2, message: expect.stringMatching(/answered 401 auth\.token_missing: no bearer token/) });
  });
});

describe('sealed-mode egress of a replay', () => {
  const SEALED = { STELLA_SEALED: 'true' };
  const codeOf = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => 'allowed',
      (e: CliError) => e.code,
    );

  it('allows loopback and names that resolve to loopback only; refuses other addresses, names and unresolvable hosts', async () => {
    for (const to of ['http://127.0.0.1:4318', 'http://127.9.9.9:4318/v1/traces', 'http://[::1]:4318', 'https://localhost:4318']) {
      expect(await codeOf(clearReplayEndpoint(to, SEALED)), to).toBe('allowed');
    }
    const resolve = async (host: string): Promise<string[]> => {
      if (host === 'otel.local') return ['127.0.0.1', '::1'];
      if (host === 'collector.internal') return ['127.0.0.1', '10.0.0.5'];
      throw new Error('ENOTFOUND');
    };
    expect(await codeOf(clearReplayEndpoint('http://otel.local:4318', SEALED, { resolve }))).toBe('allowed');
    const mixed = await clearReplayEndpoint('http://collector.internal:4318', SEALED, { resolve }).catch((e: CliError) => e);
    expect(mixed).toMatchObject({ code: 'sealed_egress_blocked', exitCode: 2, message: expect.stringContaining('collector.internal resolves to 127.0.0.1, 10.0.0.5, not to loopback only') });
    const unknown = await clearReplayEndpoint('http://nowhere.invalid:4318', SEALED, { resolve }).catch((e: CliError) => e);
    expect(unknown).toMatchObject({ code: 'sealed_egress_blocked', message: expect.stringContaining('(unresolvable_host)') });
    for (const to of ['http://10.1.2.3:4318', 'http://[fd00::1]:4318', 'http://[::ffff:10.0.0.1]:4318']) {
      expect(await codeOf(clearReplayEndpoint(to, SEALED)), to).toBe('sealed_egress_blocked');
    }
    // Not sealed: not the guard's to refuse. Sealed is "true" or "1", as the telemetry library reads it.
    expect(await codeOf(clearReplayEndpoint('http://10.1.2.3:4318', {}))).toBe('allowed');
    expect(await codeOf(clearReplayEndpoint('http://10.1.2.3:4318', { STELLA_SEALED: '1' }))).toBe('sealed_egress_blocked');
    // Only OTLP/HTTP: a file: or grpc: URL is a usage error, sealed or not.
    expect(await codeOf(clearReplayEndpoint('file:///var/spool/otel', {}))).toBe('usage');
    expect(await codeOf(clearReplayEndpoint('grpc://127.0.0.1:4317', SEALED))).toBe('usage');
  });

  it('a replayer built on a sealed host sends nothing to a refused endpoint, even when the caller skipped the check', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const replayer = new OtlpReplayer({ to: 'http://192.0.2.1:4318', headers: {}, concurrency: 2, batchBytes: 1024, progress: { add: () => undefined, finish: () => undefined }, env: { STELLA_SEALED: 'true' } });
      const sink = replayer.entry('traces', request.length);
      const error = await (async () => {
        async function* halves(): AsyncGenerator<Buffer> {
          yield request.subarray(0, 50_000);
          yield request.subarray(50_000);
        }
        for await (const chunk of replayer.paced(halves())) sink.write(chunk);
        sink.end();
        await replayer.drain();
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'sealed_egress_blocked', message: expect.stringContaining('replay to http://192.0.2.1:4318/ refused (non_loopback_address)') });
      expect(fetchSpy).not.toHaveBeenCalled();
      expect(replayer.sent.traces).toEqual({ requests: 0, bytes: 0 });
      // A capture with nothing to send is refused too, rather than reported as replayed.
      const empty = new OtlpReplayer({ to: 'http://192.0.2.1:4318', headers: {}, concurrency: 1, batchBytes: 1024, progress: { add: () => undefined, finish: () => undefined }, env: { STELLA_SEALED: 'true' } });
      await expect(empty.drain()).rejects.toMatchObject({ code: 'sealed_egress_blocked' });
    } finally {
      fetchSpy.mockRestore();
    }
  });
});
