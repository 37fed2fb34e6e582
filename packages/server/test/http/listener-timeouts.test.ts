/**
 * The API listener closes sockets of clients that stall: half a body, half the headers,
 * nothing at all, or an idle keep-alive — within the configured timeouts, on a real socket
 * against `service.listen()`.
 */
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/index.js';
import { startTestService, type TestService } from '../helpers/service.js';

const HEADERS_MS = 500;
const REQUEST_MS = 1000;
const KEEP_ALIVE_MS = 500;
/** Node checks the deadlines periodically (every headers timeout / 4 here); allow for a loaded machine. */
const SLACK_MS = 1500;

let ts: TestService;
let port: number;
let token: string;

beforeAll(async () => {
  ts = await startTestService({
    STELLA_HOST: '127.0.0.1',
    STELLA_OTLP_HTTP_PORT: '0',
    STELLA_OTLP_GRPC_PORT: '0',
    STELLA_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    STELLA_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    STELLA_HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
    STELLA_HTTP_CONNECTION_TIMEOUT_MS: '5000',
  });
  await ts.service.listen();
  port = (ts.service.app.server.address() as AddressInfo).port;
  token = await ts.token('acme', ['timeline:write', 'evidence:read']);
});
afterAll(async () => ts?.stop());

interface Outcome {
  closedAfterMs: number;
  received: string;
}

/** Opens a socket, sends `data`, and reports when the server closed it (fails after 10 s). */
function stall(data: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    const socket = connect({ host: '127.0.0.1', port }, () => {
      if (data) socket.write(data);
    });
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after 10 s (sent ${JSON.stringify(data.slice(0, 60))})`));
    }, 10_000);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}

const halfBody = (path: string, auth: boolean): string =>
  [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', 'Content-Length: 100000', ...(auth ? [`Authorization: Bearer ${token}`] : []), '', '{"events":[{"kind":"a.b"'].join('\r\n');

describe('API listener timeouts', () => {
  it('closes the socket of a client that sends the headers and half the body (authorised or not)', async () => {
    for (const outcome of await Promise.all([stall(halfBody('/timeline/events', true)), stall(halfBody('/evidence/verify', true)), stall(halfBody('/timeline/events', false))])) {
      expect(outcome.closedAfterMs).toBeLessThan(REQUEST_MS + SLACK_MS);
    }
  });

  it('closes all of 50 half-sent requests in bounded time', async () => {
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => stall(halfBody('/timeline/events', true))));
    expect(outcomes).toHaveLength(50);
    expect(Date.now() - started).toBeLessThan(REQUEST_MS + 2 * SLACK_MS);
  });

  it('closes a socket that sends half the headers, or nothing, after the headers timeout', async () => {
    const [partial, silent] = await Promise.all([stall('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '), stall('')]);
    expect(partial.closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
    expect(partial.received).toMatch(/^HTTP\/1\.1 408/);
    expect(silent.closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout, having answered its request', async () => {
    const outcome = await stall('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    expect(outcome.received).toMatch(/^HTTP\/1\.1 200/);
    expect(outcome.closedAfterMs).toBeLessThan(KEEP_ALIVE_MS + SLACK_MS);
  });

  it('still serves a client that sends its body in time', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/timeline/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ kind: 'listener.test' }] }),
    });
    expect(res.status).toBe(202);
  });
});

describe('listener timeout settings', () => {
  it('default to 10 s for headers, 30 s for the request, 72 s keep-alive and 120 s of silence, settable by flag, environment or file', () => {
    expect(resolveConfig([], {})).toMatchObject({ httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 30_000, httpKeepAliveTimeoutMs: 72_000, httpConnectionTimeoutMs: 120_000 });
    expect(resolveConfig(['--http-request-timeout-ms', '5000', '--http-headers-timeout-ms=2000'], { STELLA_HTTP_KEEP_ALIVE_TIMEOUT_MS: '9000' })).toMatchObject({
      httpHeadersTimeoutMs: 2000,
      httpRequestTimeoutMs: 5000,
      httpKeepAliveTimeoutMs: 9000,
    });
  });

  it('refuse a headers timeout longer than the request timeout, and values out of range', () => {
    expect(() => resolveConfig([], { STELLA_HTTP_HEADERS_TIMEOUT_MS: '40000' })).toThrow(/must not exceed STELLA_HTTP_REQUEST_TIMEOUT_MS/);
    for (const value of ['0', '-1', '1e309', 'abc']) expect(() => resolveConfig([], { STELLA_HTTP_REQUEST_TIMEOUT_MS: value })).toThrow(ConfigError);
  });
});
