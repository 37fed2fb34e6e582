import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createProgram } from '@stellaops/cli';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const TENANT = 'acme';
let a: ReceiverService;
let b: ReceiverService;
let dir: string;
let apiA: string;
let exportToken: string;
const traceIds: string[] = [];

/** Runs `stella` in-process. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
async function stella(...argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir, stderrIsTTY: true });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) };
}

/** From the start of the previous hour to now: a window wholly in the past once the data is in. */
function hourWindow(): string {
  const now = Date.now();
  const from = new Date(Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
  return `${from}/${new Date(now).toISOString()}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-capture-'));
  [a, b] = await Promise.all([startReceiver(), startReceiver()]);
  apiA = `http://127.0.0.1:${(a.service.app.server.address() as AddressInfo).port}`;
  exportToken = await a.token(TENANT, [`stella:evidence:export#tenant/${TENANT}`, `stella:obs:read#tenant/${TENANT}`]);
  const write = await a.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  for (const service of ['checkout', 'policy-engine']) {
    const spans = makeSpans(service);
    traceIds.push(spans[0]!.spanContext().traceId);
    const result = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${a.ports.http}/v1/traces`, headers: { authorization: `Bearer ${write}` } }), spans);
    expect(result.code).toBe(ExportResultCode.SUCCESS);
  }
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('forensic capture and replay', () => {
  it('captures the same window twice byte-identically, as a signed bundle that verifies offline', async () => {
    const window = encodeURIComponent(hourWindow());
    const get = () => a.service.app.inject({ method: 'GET', url: `/telemetry/exports/forensic/${window}`, headers: { authorization: `Bearer ${exportToken}` } });
    const first = await get();
    const second = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/gzip');
    expect(first.rawPayload.length).toBeGreaterThan(0);
    expect(Buffer.compare(first.rawPayload, second.rawPayload)).toBe(0);

    const key = (await a.service.app.inject({ method: 'GET', url: '/telemetry/exports/signing-key', headers: { authorization: `Bearer ${exportToken}` } })).json();
    await writeFile(join(dir, 'capture.pub.pem'), key.public_key_pem);
    await writeFile(join(dir, 'first.tar'), gunzipSync(first.rawPayload));
    const verified = await stella('forensic', 'verify', 'first.tar', '--key', 'capture.pub.pem', '--json');
    expect(verified.code, verified.out + verified.err).toBe(0);
    expect(verified.json()).toMatchObject({ ok: true, manifest: { kind: 'export', tenant: TENANT, case_id: 'forensic-capture' }, files: 3 });

    // Refusals come before any byte is streamed.
    const bad = await a.service.app.inject({ method: 'GET', url: '/telemetry/exports/forensic/yesterday', headers: { authorization: `Bearer ${exportToken}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error_code).toBe('capture.window_invalid');
    const wide = await a.service.app.inject({ method: 'GET', url: '/telemetry/exports/forensic/900h', headers: { authorization: `Bearer ${exportToken}` } });
    expect(wide.json()).toMatchObject({ error_code: 'capture.window_too_wide', allowed: { max_hours: 168 } });
    const noScope = await a.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const denied = await a.service.app.inject({ method: 'GET', url: `/telemetry/exports/forensic/${window}`, headers: { authorization: `Bearer ${noScope}` } });
    expect(denied.statusCode).toBe(403);
  });

  it('stella telemetry capture downloads with progress and verifies; replay refuses a tampered bundle and re-sends a good one', async () => {
    const captured = await stella('telemetry', 'capture', '--window', '2h', '--out', 'bundle.tar.gz', '--server', apiA, '--token', exportToken, '--json');
    expect(captured.code, captured.out + captured.err).toBe(0);
    const doc = captured.json();
    expect(doc).toMatchObject({ ok: true, verified: true, counts: { traces: { items: 4 } } });
    expect(doc.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(captured.err).toMatch(/capture \[#+\] 100%/);

    // A flipped byte inside the compressed bundle: replay must refuse and send nothing.
    const bytes = await readFile(join(dir, 'bundle.tar.gz'));
    const tampered = Buffer.from(gunzipSync(bytes));
    const at = tampered.indexOf(Buffer.from('policy.evaluate'));
    tampered[at] = tampered[at]! ^ 0x20;
    const { gzipSync } = await import('node:zlib');
    await writeFile(join(dir, 'tampered.tar.gz'), gzipSync(tampered));
    const writeB = await b.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
    const to = `http://127.0.0.1:${b.ports.http}`;
    const refused = await stella('telemetry', 'replay', 'tampered.tar.gz', '--to', to, '--key', 'capture.pub.pem', '--token', writeB, '--json');
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({ ok: false, verified: false, sent: null });

    const replayed = await stella('telemetry', 'replay', 'bundle.tar.gz', '--to', to, '--key', 'capture.pub.pem', '--token', writeB, '--concurrency', '2', '--json');
    expect(replayed.code, replayed.out + replayed.err).toBe(0);
    expect(replayed.json().sent.traces.requests).toBeGreaterThan(0);

    const readA = await a.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const readB = await b.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    for (const traceId of traceIds) {
      const fromA = (await a.service.app.inject({ method: 'GET', url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${readA}` } })).json();
      const fromB = await b.service.app.inject({ method: 'GET', url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${readB}` } });
      expect(fromB.statusCode).toBe(200);
      // The second instance holds the same spans: ids, names, times, attributes, tree.
      expect(fromB.json().spans).toEqual(fromA.spans);
    }
  });

  it('runs the installed bin end to end (usage errors exit 2)', async () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'cli', 'bin', 'stella.js');
    const run = promisify(execFile);
    const failed = await run(process.execPath, [bin, 'telemetry', 'replay', 'missing.tar.gz', '--to', 'http://127.0.0.1:1', '--key', 'nope.pem'], { cwd: dir }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(2);
    expect((failed as { stderr: string }).stderr).toMatch(/cannot read --key/);
  });
});
