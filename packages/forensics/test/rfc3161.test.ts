import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTimestampRequest, parseTimestampResponse, requestTimestamp, verifyTimestamp } from '../src/index.js';
import { startTestTsa, type TestTsa } from './helpers/openssl-tsa.js';

let tsa: TestTsa;
let url: string;
beforeAll(async () => {
  tsa = await startTestTsa();
  url = await tsa.listen();
});
afterAll(async () => tsa.close());

describe('RFC 3161 against a real openssl TSA', () => {
  it('requests a token over HTTP and verifies imprint, signature, EKU and chain at genTime', async () => {
    const data = Buffer.from('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n');
    const before = Date.now();
    const resp = await requestTimestamp(url, data);
    expect(parseTimestampResponse(resp).status).toBe(0);
    const v = await verifyTimestamp(resp, { data, trustAnchors: [tsa.caPem] });
    expect(v.failures).toEqual([]);
    expect(v).toMatchObject({ ok: true, trusted: true, tsa: 'CN=StellaOps Test TSA', policy: '1.3.6.1.4.1.55555.1' });
    // genTime has one-second resolution.
    expect(v.genTime!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(v.genTime!.getTime()).toBeLessThanOrEqual(Date.now());
    // Without anchors: the token is sound but not trusted.
    expect(await verifyTimestamp(resp, { data })).toMatchObject({ ok: true, trusted: false });
    // Another datum.
    expect((await verifyTimestamp(resp, { data: Buffer.from('x') })).failures.map((f) => f.code)).toEqual(['timestamp_mismatch']);
    // Garbage.
    expect((await verifyTimestamp(Buffer.from('not der'), { data })).failures.map((f) => f.code)).toEqual(['timestamp_invalid']);
  });

  it('refuses a replayed response whose nonce is not ours, and a TSA that is down', async () => {
    const data = Buffer.from('abc');
    const stale = await tsa.reply(createTimestampRequest(data).der);
    const replay = createServer((_req, res) => {
      _req.resume();
      _req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        res.end(stale);
      });
    });
    await new Promise<void>((r) => replay.listen(0, '127.0.0.1', r));
    const port = (replay.address() as { port: number }).port;
    try {
      await expect(requestTimestamp(`http://127.0.0.1:${port}/`, data)).rejects.toMatchObject({ code: 'timestamp_request_failed', message: expect.stringMatching(/nonce/) });
    } finally {
      await new Promise<void>((r) => replay.close(() => r()));
    }
    await expect(requestTimestamp(`http://127.0.0.1:${port}/`, data, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'timestamp_request_failed' });
  });
});
