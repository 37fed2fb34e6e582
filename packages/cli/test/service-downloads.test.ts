/**
 * Commands that make the service commit or export something and then write it locally, run
 * against a real listening service (through a small proxy that can interfere with the local
 * write at the worst moment): the destination is checked before the service is asked for
 * anything, and when the write still fails after the commit the id (or captured window) and the
 * command that fetches it again are printed, with exit 2. Also: a capture window ending after
 * now is clamped and the output says so; `stella telemetry retention show|set`.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createProgram } from '../src/index.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const TENANT = 'acme';
let svc: ReceiverService;
let proxy: Server;
let proxyUrl: string;
let dir: string;
let token: string;
/** Paths the proxy forwarded, in order. */
const seen: string[] = [];
/** Runs before the proxy forwards a request whose path matches (e.g. to create a file meanwhile). */
let interfere: { match: RegExp; run: () => Promise<void> } | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(...argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir });
  const code = await run([...argv, '--server', proxyUrl, '--token', token]);
  return { code, out, err, json: () => JSON.parse(out) };
}

async function bundlesOf(caseId: string): Promise<string[]> {
  const res = await svc.service.app.inject({ method: 'GET', url: `/evidence?case_id=${caseId}`, headers: { authorization: `Bearer ${token}` } });
  return res.json<{ bundles: { bundle_id: string }[] }>().bundles.map((b) => b.bundle_id);
}

async function leftovers(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes('.partial-'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-downloads-'));
  svc = await startReceiver();
  const address = svc.service.app.server.address() as AddressInfo;
  const target = { hostname: '127.0.0.1', port: address.port };
  proxy = createServer((req, res) => {
    seen.push(req.url ?? '');
    const forward = (): void => {
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    const hook = interfere && interfere.match.test(req.url ?? '') ? interfere : undefined;
    if (hook) {
      interfere = undefined;
      void hook.run().then(forward, forward);
    } else forward();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  token = await svc.token(TENANT, [
    `stella:evidence:create#tenant/${TENANT}`,
    `stella:evidence:read#tenant/${TENANT}`,
    `stella:evidence:export#tenant/${TENANT}`,
    `stella:obs:read#tenant/${TENANT}`,
    `stella:telemetry:admin#tenant/${TENANT}`,
  ]);
  const headers = { authorization: `Bearer ${token}` };
  for (const job of ['job-1', 'job-2', 'job-3']) {
    const a = await svc.service.app.inject({
      method: 'POST',
      url: '/evidence/artifacts',
      headers,
      payload: { resource_type: 'job', resource_id: job, role: 'transcript', name: 'run.log', media_type: 'text/plain', content_base64: Buffer.from(`ran ${job}\n`).toString('base64') },
    });
    expect(a.statusCode, a.body).toBe(201);
  }
  const writer = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  const r = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${svc.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), makeSpans('svc-cli'));
  expect(r.code).toBe(ExportResultCode.SUCCESS);
}, 60_000);

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await svc?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('stella forensic snapshot create --out', () => {
  it('refuses an existing --out before the service commits anything', async () => {
    await writeFile(join(dir, 'x.tar'), 'mine, not a bundle\n');
    seen.length = 0;
    const r = await stella('forensic', 'snapshot', 'create', '--case', 'case-1', '--scope', 'job-capsule', '--id', 'job-1', '--out', 'x.tar', '--json');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'exists', message: expect.stringMatching(/x\.tar already exists.*nothing was asked of the service/) } });
    expect(seen).toEqual([]);
    expect(await bundlesOf('case-1')).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('writes the archive when the destination is free', async () => {
    const r = await stella('forensic', 'snapshot', 'create', '--case', 'case-2', '--scope', 'job-capsule', '--id', 'job-2', '--out', 'ok/job-2.tar', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(existsSync(join(dir, 'ok', 'job-2.tar'))).toBe(true);
    expect(await bundlesOf('case-2')).toEqual([r.json().bundle.bundle_id]);
  });

  it('when the write fails after the commit, prints the bundle id and the command that fetches it again (exit 2)', async () => {
    // The file appears between the commit and the download.
    interfere = { match: /\/archive$/, run: () => writeFile(join(dir, 'race.tar'), 'someone else\n') };
    const r = await stella('forensic', 'snapshot', 'create', '--case', 'case-3', '--scope', 'job-capsule', '--id', 'job-3', '--out', 'race.tar');
    expect(r.code).toBe(2);
    const [id] = await bundlesOf('case-3');
    expect(id).toBeTruthy();
    expect(r.out).toContain(`created bundle ${id}`);
    expect(r.out).toMatch(/NOT WRITTEN: .*race\.tar appeared while downloading/);
    expect(r.out).toContain(`fetch it again with: stella forensic snapshot get ${id} --out race.tar`);
    expect(r.out).toMatch(/trace_id [0-9a-f]{32}/);
    expect(await leftovers()).toEqual([]);

    // --json carries the same: the bundle, the error and the command.
    interfere = { match: /\/archive$/, run: () => writeFile(join(dir, 'race2.tar'), 'someone else\n') };
    const j = await stella('forensic', 'snapshot', 'create', '--case', 'case-3', '--scope', 'job-capsule', '--id', 'job-3', '--out', 'race2.tar', '--json');
    expect(j.code).toBe(2);
    expect(j.json()).toMatchObject({ ok: false, bundle: { bundle_id: expect.any(String) }, error: { code: 'exists' }, refetch: expect.stringMatching(/^stella forensic snapshot get \S+ --out race2\.tar$/) });

    // The printed command works (with a free destination).
    const again = await stella('forensic', 'snapshot', 'get', id!, '--out', 'fetched.tar', '--json');
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, archive: join(dir, 'fetched.tar') });
  });
});

describe('stella telemetry capture', () => {
  it('refuses an existing --out before the service records an export', async () => {
    await writeFile(join(dir, 'cap.tar.gz'), 'mine\n');
    seen.length = 0;
    const r = await stella('telemetry', 'capture', '--window', '2h', '--out', 'cap.tar.gz', '--json');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'exists' } });
    expect(seen).toEqual([]);
  });

  it('clamps a window that ends after now, and says so; the bundle is not signed in the future', async () => {
    const now = Date.now();
    const from = new Date(now - 3_600_000).toISOString();
    const requestedTo = new Date(now + 30 * 60_000).toISOString();
    const r = await stella('telemetry', 'capture', '--window', `${from}/${requestedTo}`, '--out', 'clamped.tar.gz', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, verified: true, window_clamped: { requested_to: requestedTo }, window: { from } });
    expect(Date.parse(doc.window.to)).toBeLessThanOrEqual(Date.now());
    expect(doc.window_clamped.to).toBe(doc.window.to);
    expect(Date.parse(doc.signing_time.time)).toBeLessThanOrEqual(Date.now());
    const text = await stella('telemetry', 'capture', '--window', `${from}/${requestedTo}`, '--out', 'clamped2.tar.gz');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/the window asked to end at .*, after now: captured up to .* \(clamped by the service\)/);
    expect(text.out).toMatch(/signed by/);
  });

  it('when the write fails after the export, prints the captured window and the command that fetches the same bundle again (exit 2)', async () => {
    interfere = { match: /\/telemetry\/exports\/forensic\//, run: () => writeFile(join(dir, 'race.tar.gz'), 'someone else\n') };
    const r = await stella('telemetry', 'capture', '--window', '2h', '--out', 'race.tar.gz', '--json');
    expect(r.code).toBe(2);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: false, error: { code: 'exists' }, window: { from: expect.any(String), to: expect.any(String) } });
    expect(doc.refetch).toBe(`stella telemetry capture --window ${doc.window.from}/${doc.window.to} --out race.tar.gz`);
    expect(await leftovers()).toEqual([]);
    const again = await stella('telemetry', 'capture', '--window', `${doc.window.from}/${doc.window.to}`, '--out', 'refetched.tar.gz', '--json');
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, window: doc.window, window_clamped: null, counts: { traces: { items: 2 } } });
  });
});

describe('stella telemetry retention', () => {
  it('shows the tiers and the policy, refuses a setting below the floor naming it, and sets the minimum', async () => {
    const show = await stella('telemetry', 'retention', 'show');
    expect(show.code, show.out + show.err).toBe(0);
    expect(show.out).toMatch(/logs\s+7\s+30\s+-\s+default/);
    expect(show.out).toMatch(/allowed: hot 3-7, warm 30-90/);
    expect(show.out).toMatch(/timeline 30-3650, evidence 90-3650; audit events kept at least 400/);

    const low = await stella('telemetry', 'retention', 'set', '--signal', 'logs', '--hot', '1', '--json');
    expect(low.code).toBe(2);
    expect(low.json()).toMatchObject({ ok: false, error: { code: 'retention.out_of_bounds', message: expect.stringMatching(/logs hot retention may not be less than 3 days/) } });

    const set = await stella('telemetry', 'retention', 'set', '--signal', 'all', '--hot', '3', '--warm', '30', '--json');
    expect(set.code, set.out + set.err).toBe(0);
    expect(set.json()).toMatchObject({ ok: true, audit_event_id: expect.any(String), signals: { traces: { hot_days: 3, warm_days: 30, source: 'tenant' }, metrics: { hot_days: 3 } } });
    expect((await stella('telemetry', 'retention', 'set', '--signal', 'logs')).code).toBe(2);
  });
});
