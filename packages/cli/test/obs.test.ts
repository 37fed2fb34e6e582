/**
 * `stella obs top` and `stella obs trace` against a running service: a trace sent over OTLP by
 * the OpenTelemetry SDK (two services, a policy decision, an error), its logs and timeline
 * events, and jobs on the timeline. `top --once --json` has the routes, services and jobs;
 * the live view redraws until interrupted — in process, and as the real executable stopped by
 * SIGINT (exit 0); `trace` prints the span tree with the trace's logs, timeline events and
 * decisions. Both send the traceparent whose trace id they print on stderr (checked through a
 * recording proxy), respect --tenant, and exit 2 with the service's error_code otherwise.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { eventually } from '../../server/test/helpers/external.js';
import { exportWith, startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const TENANT = 'acme';
const BIN = fileURLToPath(new URL('../bin/stella.js', import.meta.url));
let svc: ReceiverService;
let server: string;
let dir: string;
/** obs:read and timeline:read of acme. */
let reader: string;
/** obs:read only. */
let obsOnly: string;
let traceId: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
type Json = Record<string, any>;

async function stella(argv: string[], options: { env?: Record<string, string>; tty?: boolean; interrupt?: AbortSignal; onStdout?: (s: string) => void } = {}): Promise<{ code: number; out: string; err: string; json: () => Json }> {
  let out = '';
  let err = '';
  const { run } = createProgram({
    stdout: (s) => {
      out += s;
      options.onStdout?.(s);
    },
    stderr: (s) => (err += s),
    env: options.env ?? {},
    cwd: dir,
    stdoutIsTTY: options.tty ?? false,
    stderrIsTTY: options.tty ?? false,
    ...(options.interrupt ? { interrupt: options.interrupt } : {}),
  });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) as Json };
}

const env = (token = reader, url = server): Record<string, string> => ({ STELLA_SERVER: url, STELLA_TOKEN: token });

/** One trace through two services, made by the SDK: web-api's request, its policy decision (denied, an error), policy-engine's request. */
function policyTrace(): ReturnType<InMemorySpanExporter['getFinishedSpans']> {
  const memory = new InMemorySpanExporter();
  const provider = (service: string) => new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const web = provider('web-api').getTracer('obs-cli-test');
  const engine = provider('policy-engine').getTracer('obs-cli-test');
  // Parents are passed explicitly: no context manager is registered here.
  const root = web.startSpan('POST /policy/evaluate', { kind: SpanKind.SERVER, attributes: { 'http.route': '/policy/evaluate', 'http.request.method': 'POST' } }, ROOT_CONTEXT);
  const decide = web.startSpan(
    'policy.evaluate',
    { attributes: { 'stella.policy.effect': 'deny', 'stella.policy.reason': 'critical finding without VEX', 'stella.policy.version': '7', 'stella.policy.rule_ids': ['R-1', 'R-9'] } },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  decide.addEvent('rule.matched', { rule: 'R-9' });
  const remote = engine.startSpan('POST /evaluate', { kind: SpanKind.SERVER, attributes: { 'http.route': '/evaluate' } }, trace.setSpan(ROOT_CONTEXT, decide));
  remote.end();
  decide.setStatus({ code: SpanStatusCode.ERROR, message: 'denied' });
  decide.end();
  root.setStatus({ code: SpanStatusCode.ERROR });
  root.end();
  return memory.getFinishedSpans();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-obs-'));
  svc = await startReceiver();
  server = `http://127.0.0.1:${(svc.service.app.server.address() as AddressInfo).port}`;
  reader = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`, `stella:timeline:read#tenant/${TENANT}`]);
  obsOnly = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
  const writer = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`, `stella:timeline:write#tenant/${TENANT}`]);

  const spans = policyTrace();
  traceId = spans[0]!.spanContext().traceId;
  const sent = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${svc.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), spans);
  expect(sent.code).toBe(ExportResultCode.SUCCESS);
  const decideSpan = spans.find((s) => s.name === 'policy.evaluate')!.spanContext().spanId;
  const logAttr = (key: string, value: string) => ({ key, value: { stringValue: value } });
  // The decision log first, the INFO line a second later (so `--logs 1` shows only the INFO line, whatever the time precision of the log index).
  const sentAt = Date.now();
  const at = (offsetMs: number): string => String(BigInt(sentAt + offsetMs) * 1_000_000n);
  const logs = {
    resourceLogs: [
      {
        resource: { attributes: [logAttr('service.name', 'web-api')] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: at(0),
                severityNumber: 13,
                severityText: 'WARN',
                body: { stringValue: 'decision.policy' },
                traceId,
                spanId: decideSpan,
                attributes: [logAttr('decision_kind', 'policy'), logAttr('decision_effect', 'deny'), logAttr('decision_reason', 'critical finding without VEX'), logAttr('policy_version', '7'), logAttr('resource', 'pkg:npm/lodash@4.17.20')],
              },
              { timeUnixNano: at(1000), severityNumber: 9, severityText: 'INFO', body: { stringValue: 'evaluating policy set 7' }, traceId, spanId: decideSpan },
            ],
          },
        ],
      },
    ],
  };
  const posted = await fetch(`http://127.0.0.1:${svc.ports.http}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, body: JSON.stringify(logs) });
  expect(posted.status).toBe(200);

  // Jobs as the orchestrator reports them: job-1 running, job-2 failed, job-3 queued, job-4 finished.
  const event = (kind: string, job: string, details: Record<string, unknown> = {}) => ({ kind, resource_type: 'job', resource_id: job, trace_id: traceId, details: { type: 'evaluate', ...details } });
  const steps = [
    [event('job.scheduled', 'job-1'), event('job.scheduled', 'job-2'), event('job.scheduled', 'job-3'), event('job.scheduled', 'job-4'), event('policy.evaluated', 'job-2')],
    [event('job.started', 'job-1'), event('job.started', 'job-2'), event('job.started', 'job-4')],
    [event('job.failed', 'job-2', { error_code: 'policy.timeout' }), event('job.finished', 'job-4')],
  ];
  for (const events of steps) {
    const res = await svc.service.app.inject({ method: 'POST', url: '/timeline/events', headers: { authorization: `Bearer ${writer}` }, payload: { events } });
    expect(res.statusCode, res.body).toBe(202);
    // Each step is indexed before the next is sent: its events are later, so each job's latest state is well defined.
    await eventually(async () => {
      const page = await svc.service.app.inject({ url: `/timeline?trace_id=${traceId}&limit=1000`, headers: { authorization: `Bearer ${reader}` } });
      return page.json<{ events: unknown[] }>().events.length >= steps.slice(0, steps.indexOf(events) + 1).flat().length ? true : undefined;
    }, 20_000, 'the timeline events to be indexed');
  }
  // The telemetry index is built from the stored records after the 200: wait until the trace's
  // spans and both log records are searchable, so every test reads the same complete trace.
  await eventually(async () => {
    const r = await stella(['obs', 'trace', traceId, '--json'], { env: env() });
    if (r.code !== 0) return undefined;
    const doc = r.json();
    return doc.trace?.span_count === 3 && doc.logs?.records?.length === 2 ? true : undefined;
  }, 20_000, 'the trace and its logs to be indexed');
}, 90_000);

afterAll(async () => {
  await svc?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('stella obs top', () => {
  it('--once --json: routes, services and jobs in one document, its trace id on stderr', async () => {
    const r = await stella(['obs', 'top', '--once', '--json'], { env: env() });
    expect(r.code, r.err).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, tenant: null, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(r.err).toBe(`trace_id ${doc.trace_id}\n`);
    expect(Date.parse(doc.window.to) - Date.parse(doc.window.from)).toBe(5 * 60_000);
    expect(doc.routes).toEqual(
      expect.arrayContaining([
        { service: 'web-api', route: '/policy/evaluate', requests: 1, request_rate_per_s: 1 / 300, errors: 1, error_ratio: 1, p95_ms: expect.any(Number) },
        { service: 'policy-engine', route: '/evaluate', requests: 1, request_rate_per_s: 1 / 300, errors: 0, error_ratio: 0, p95_ms: expect.any(Number) },
      ]),
    );
    expect(doc.routes_total).toBe(2);
    expect(doc.services.map((s: Json) => [s.service, s.status])).toEqual([
      ['policy-engine', 'up'],
      ['web-api', 'degraded'],
    ]);
    expect(doc.jobs).toMatchObject({
      available: true,
      running: [{ job_id: 'job-1', type: 'evaluate', state: 'running' }],
      queued: [{ job_id: 'job-3', state: 'queued' }],
      failed: [{ job_id: 'job-2', state: 'failed', error_code: 'policy.timeout', trace_id: traceId }],
      finished: 1,
      complete: true,
    });
  });

  it('--once: one frame of text, with --service and --limit', async () => {
    const r = await stella(['obs', 'top', '--once', '--tenant', TENANT, '--service', 'web-api', '--window', '15m'], { env: env() });
    expect(r.code, r.err).toBe(0);
    const doc = r.out;
    expect(doc).toMatch(/^stella obs top — tenant acme — last 900 s to \S+Z\ntrace_id ([0-9a-f]{32})\n/);
    expect(r.err).toBe(`trace_id ${/trace_id ([0-9a-f]{32})/.exec(doc)![1]}\n`);
    expect(doc).toContain('services: web-api DEGRADED (errors 100.0%');
    expect(doc).toMatch(/SERVICE +ROUTE +REQ\/S +ERRORS +P95 +REQUESTS\nweb-api +\/policy\/evaluate +0\.00 +100\.0% +[\d.]+ ms +1\n/);
    expect(doc).not.toContain('policy-engine');
    expect(doc).toMatch(/jobs since \S+ \(timeline\): 1 running, 1 queued, 1 failed, 1 finished\n/);
    expect(doc).toMatch(/ {2}RUNNING +job-1 +evaluate +since \d\d:\d\d:\d\d/);
    expect(doc).toMatch(new RegExp(` {2}FAILED +job-2 +evaluate +at \\d\\d:\\d\\d:\\d\\d +policy\\.timeout +trace ${traceId}`));
    const limited = await stella(['obs', 'top', '--once', '--limit', '1'], { env: env() });
    expect(limited.out).toContain('… 1 more route(s) with fewer requests (--limit shows more)');
  });

  it('leaves the jobs out, saying why, when the token may not read the timeline', async () => {
    const r = await stella(['obs', 'top', '--once', '--json'], { env: env(obsOnly) });
    expect(r.code, r.err).toBe(0);
    expect(r.json().jobs).toEqual({ available: false, reason: 'the token lacks stella:timeline:read#tenant/acme: jobs are read from the timeline' });
    const text = await stella(['obs', 'top', '--once'], { env: env(obsOnly) });
    expect(text.out).toContain('jobs: not shown — the token lacks stella:timeline:read#tenant/acme');
  });

  it('redraws in place on a terminal until interrupted, each refresh its own trace, then exits 0', async () => {
    const stop = new AbortController();
    let frames = 0;
    const r = await stella(['obs', 'top', '--interval', '0.2'], {
      env: env(),
      tty: true,
      interrupt: stop.signal,
      onStdout: (s) => {
        if (s.startsWith('\u001b[H\u001b[J') && ++frames === 3) stop.abort();
      },
    });
    expect(r.code, r.err).toBe(0);
    const drawn = r.out.split('\u001b[H\u001b[J');
    expect(drawn[0]).toBe('');
    expect(drawn).toHaveLength(4);
    const ids = drawn.slice(1).map((f) => /^stella obs top — the token's tenant — last 300 s to \S+ — every 0\.2 s, Ctrl-C to stop\ntrace_id ([0-9a-f]{32})\n/.exec(f)?.[1]);
    expect(new Set(ids).size).toBe(3);
    expect(ids.every(Boolean)).toBe(true);
    // stderr is the terminal the view is drawn on: the ids stay in the frames.
    expect(r.err).toBe('');
    expect(r.out.endsWith('\n')).toBe(true);
  });

  it('stops on Ctrl-C as the real executable, exit 0, frames one after another when piped', async () => {
    const child = spawn(process.execPath, [BIN, 'obs', 'top', '--interval', '0.2'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await eventually(async () => ((out.match(/^stella obs top —/gm) ?? []).length >= 2 ? true : undefined), 60_000, 'two frames');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const frames = out.split(/^(?=stella obs top —)/m);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    // Piped: every refresh's trace id on stderr too, the same as in its frame.
    const inFrames = [...out.matchAll(/^trace_id ([0-9a-f]{32})$/gm)].map((m) => m[1]);
    const onStderr = [...err.matchAll(/^trace_id ([0-9a-f]{32})$/gm)].map((m) => m[1]);
    expect(onStderr).toEqual(inFrames);
    expect(out).not.toContain('\u001b[');
  }, 90_000);

  it('ends at once when interrupted while a refresh waits for an answer', async () => {
    // A service that accepts requests and never answers them.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const waiting: string[] = [];
    silent.on('request', (req) => waiting.push(req.url ?? ''));
    try {
      const stop = new AbortController();
      const started = Date.now();
      const run = stella(['obs', 'top'], { env: env(reader, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`), interrupt: stop.signal });
      await eventually(async () => (waiting.length >= 3 ? true : undefined), 20_000, 'the first refresh to be waiting');
      stop.abort();
      const r = await run;
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe('');
      // Nowhere near a request timeout: the requests in flight were aborted.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses what it cannot do with exit 2: --json without --once, bad durations, a refused token', async () => {
    const json = await stella(['obs', 'top', '--json'], { env: env() });
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('--once') } });
    for (const argv of [
      ['--window', '5x'],
      ['--interval', '0'],
      ['--limit', 'many'],
    ]) {
      const r = await stella(['obs', 'top', '--once', ...argv], { env: env() });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(new RegExp(`^stella: ${argv[0]} must be`));
    }
    const writerOnly = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
    const denied = await stella(['obs', 'top', '--once'], { env: env(writerOnly) });
    expect(denied.code).toBe(2);
    expect(denied.err).toMatch(/GET \/obs\/(routes|health)\?since=300s → 403 auth\.scope_denied: .*\(trace_id [0-9a-f]{32}\)/);
    const unreachable = await stella(['obs', 'top', '--once', '--server', 'http://127.0.0.1:9'], { env: env() });
    expect(unreachable.code).toBe(2);
    expect(unreachable.err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});

describe('stella obs trace', () => {
  it('prints the span tree with the trace\'s logs, timeline events and decisions', async () => {
    const r = await stella(['obs', 'trace', traceId], { env: env() });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^trace_id [0-9a-f]{32}\n$/);
    expect(r.err).not.toContain(traceId);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^trace ${traceId} — 3 span\\(s\\), 2 service\\(s\\) \\(policy-engine, web-api\\), [\\d.]+ ms, from \\S+Z$`));
    const spanHeader = lines.findIndex((l) => l.startsWith('SPAN '));
    expect(lines[spanHeader]).toMatch(/^SPAN +SERVICE +KIND +STATUS +DURATION +START +MESSAGE$/);
    expect(lines[spanHeader + 1]).toMatch(/^POST \/policy\/evaluate +web-api +SERVER +ERROR +[\d.]+ ms +\+0\.0 ms$/);
    expect(lines[spanHeader + 2]).toMatch(/^ {2}└ policy\.evaluate +web-api +INTERNAL +ERROR +[\d.]+ ms +\+[\d.]+ ms +denied$/);
    expect(lines[spanHeader + 3]).toMatch(/^ {6}• rule\.matched \d\d:\d\d:\d\d {"rule":"R-9"}$/);
    expect(lines[spanHeader + 4]).toMatch(/^ {4}└ POST \/evaluate +policy-engine +SERVER +UNSET +[\d.]+ ms +\+[\d.]+ ms$/);
    expect(r.out).toMatch(/\nlogs: 2\n {2}\S+Z {2}WARN {3}web-api {2}decision\.policy {2}\[span [0-9a-f]{16}\]\n {2}\S+Z {2}INFO {3}web-api {2}evaluating policy set 7 {2}\[span [0-9a-f]{16}\]\n/);
    expect(r.out).toMatch(/\ntimeline: 10 event\(s\)\n/);
    for (const line of ['job.scheduled  job/job-1', 'policy.evaluated  job/job-2', 'job.failed  job/job-2', 'job.finished  job/job-4']) expect(r.out).toMatch(new RegExp(`\\n {2}\\S+Z {2}${line.replace('.', '\\.')} {2}by \\S+\\n`));
    // One decision: the log and the span say the same, shown once.
    expect(r.out).toMatch(/\ndecisions: 1\n {2}\S+Z {2}policy DENY {2}web-api {2}"critical finding without VEX" {2}policy 7 {2}on pkg:npm\/lodash@4\.17\.20\n$/);
  });

  it('--json: the trace as the service answers it, with logs, timeline and decisions', async () => {
    const r = await stella(['obs', 'trace', traceId.toUpperCase(), '--json'], { env: env() });
    expect(r.code, r.err).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, trace: { trace_id: traceId, span_count: 3, services: ['policy-engine', 'web-api'] }, logs: { truncated: false }, timeline: { available: true }, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(r.err).toBe(`trace_id ${doc.trace_id}\n`);
    expect(doc.trace.spans.map((s: Json) => [s.depth, s.name])).toEqual([
      [0, 'POST /policy/evaluate'],
      [1, 'policy.evaluate'],
      [2, 'POST /evaluate'],
    ]);
    expect(doc.logs.records.map((l: Json) => l.body)).toEqual(['decision.policy', 'evaluating policy set 7']);
    expect(doc.timeline.events).toHaveLength(10);
    // Oldest first: the first five were sent together, the last two after the rest.
    expect(doc.timeline.events.slice(0, 5).map((e: Json) => e.kind).sort()).toEqual(['job.scheduled', 'job.scheduled', 'job.scheduled', 'job.scheduled', 'policy.evaluated']);
    expect(doc.timeline.events.at(-1).kind).toMatch(/^job\.(failed|finished)$/);
    expect(doc.decisions).toEqual([
      {
        source: 'log',
        time: expect.any(String),
        kind: 'policy',
        effect: 'deny',
        reason: 'critical finding without VEX',
        scope: null,
        policy_version: '7',
        rule_ids: [],
        resource: 'pkg:npm/lodash@4.17.20',
        action: null,
        service: 'web-api',
        span_id: doc.trace.spans[1].span_id,
      },
    ]);
  });

  it('shows the span decision when no log covers it, and leaves the timeline out when the token may not read it', async () => {
    const r = await stella(['obs', 'trace', traceId, '--logs', '1', '--json'], { env: env(obsOnly) });
    expect(r.code, r.err).toBe(0);
    const doc = r.json();
    expect(doc.timeline).toEqual({ available: false, reason: 'the token lacks stella:timeline:read#tenant/acme' });
    // --logs 1: only the newest record (the INFO line); the decision is then the span's own attributes.
    expect(doc.logs).toMatchObject({ truncated: true, records: [{ body: 'evaluating policy set 7' }] });
    expect(doc.decisions).toEqual([
      { source: 'span', time: expect.any(String), kind: 'policy', effect: 'deny', reason: 'critical finding without VEX', scope: null, policy_version: '7', rule_ids: ['R-1', 'R-9'], resource: null, action: null, service: 'web-api', span_id: doc.trace.spans[1].span_id },
    ]);
    const text = await stella(['obs', 'trace', traceId], { env: env(obsOnly) });
    expect(text.out).toContain('timeline: not shown — the token lacks stella:timeline:read#tenant/acme');
  });

  it("exits 2 for a malformed id, an unknown trace and another tenant's trace", async () => {
    const bad = await stella(['obs', 'trace', 'not-a-trace'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/"not-a-trace" is not a trace id: 32 hex characters/);
    const zero = await stella(['obs', 'trace', '0'.repeat(32), '--json'], { env: env() });
    expect(zero.json()).toMatchObject({ ok: false, error: { code: 'usage' } });
    const unknown = await stella(['obs', 'trace', randomBytes(16).toString('hex'), '--json'], { env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.json().error).toMatchObject({ code: 'obs.trace_not_found', message: expect.stringMatching(/→ 404 obs\.trace_not_found: .*\(trace_id [0-9a-f]{32}\)/) });
    const globex = await svc.token('globex', ['stella:obs:read#tenant/globex', 'stella:timeline:read#tenant/globex']);
    const other = await stella(['obs', 'trace', traceId], { env: env(globex) });
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/404 obs\.trace_not_found/);
  });
});

describe('both commands', () => {
  let proxy: Server;
  let proxyUrl: string;
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    // Forwards to the service and records what the CLI sent.
    proxy = createServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      void fetch(new URL(req.url ?? '/', server), { headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection') as [string, string][]) }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('send the traceparent of the trace id they print, and the tenant given with --tenant', async () => {
    for (const argv of [
      ['obs', 'top', '--once'],
      ['obs', 'trace', traceId],
    ]) {
      seen.length = 0;
      const r = await stella([...argv, '--tenant', TENANT], { env: env(reader, proxyUrl) });
      expect(r.code, r.err).toBe(0);
      const printed = /^trace_id ([0-9a-f]{32})$/m.exec(r.err)![1];
      expect(seen.length, argv.join(' ')).toBeGreaterThanOrEqual(3);
      for (const request of seen) {
        expect(request.headers['traceparent'], request.path).toMatch(new RegExp(`^00-${printed}-[0-9a-f]{16}-01$`));
        expect(request.headers['x-stella-tenant'], request.path).toBe(TENANT);
      }
    }
  });

  it('need --tenant when the token names several tenants', async () => {
    const both = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`, 'stella:obs:read#tenant/globex']);
    for (const argv of [
      ['obs', 'top', '--once'],
      ['obs', 'trace', traceId],
    ]) {
      const r = await stella(argv, { env: env(both) });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/400 tenant\.ambiguous/);
      expect(r.err).toMatch(/hint: name the tenant with --tenant <tenant> or STELLA_TENANT/);
      expect((await stella([...argv, '--tenant', TENANT], { env: env(both) })).code).toBe(0);
      expect((await stella([...argv, '--tenant', 'a.b'], { env: env(both) })).code).toBe(2);
    }
  });

  it('document their flags in --help', async () => {
    const top = await stella(['obs', 'top', '--help']);
    expect(top.code).toBe(0);
    for (const flag of ['--interval <seconds>', '--window <duration>', '--jobs-window <duration>', '--service <name>', '--limit <n>', '--once', '--json', '--tenant <tenant>', '--server <url>', '--token <jwt>']) expect(top.out).toContain(flag);
    expect(top.out).toContain('The service has no\njob API');
    expect(top.out).toContain('stella obs top --once --json');
    const tr = await stella(['obs', 'trace', '--help']);
    expect(tr.out).toMatch(/Usage: stella obs trace \[options\] <trace-id>/);
    for (const flag of ['--logs <n>', '--json', '--tenant <tenant>']) expect(tr.out).toContain(flag);
  });
});
