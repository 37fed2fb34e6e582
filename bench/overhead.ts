/**
 * Telemetry overhead on a realistic Fastify route — `npm run bench -- overhead [options]`.
 *
 * Each configuration runs its server in a CHILD process (so the server's CPU time is its own,
 * measured with process.cpuUsage inside the child), loaded by autocannon from this process,
 * exporting to a local OTLP/HTTP sink (also here) so export cost is real:
 *   (a) no telemetry;
 *   (b) telemetry-core defaults: 10% head sampling, tail buffer, metrics, logging (info line per request);
 *   (c) incident mode for the tenant under load: 100% sampling and debug breadcrumbs;
 *   (d) stock @opentelemetry/auto-instrumentations-node, BatchSpanProcessor, default (100%) sampling.
 * Configurations are interleaved over rounds so drift on a shared machine hits all of them.
 *
 * Options: --duration <s> (default 10), --warmup <s> (default 6), --connections <n> (default 50),
 *          --findings <n> (work per request: findings evaluated, default 200),
 *          --rounds <n> (default 2), --only a,b,c,d, --cpu-prof <dir> (V8 CPU profile per server).
 * Attribution variants of (b)/(c): BENCH_NO_TAIL=1 (no tail sampling), BENCH_LOG_EXPORT=info (info lines exported too).
 * The servers load telemetry-core compiled (dist/, rebuilt incrementally first), as services run it.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import type FastifyFactory from 'fastify';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as TraceOtlp from '@opentelemetry/exporter-trace-otlp-proto';
import type * as Resources from '@opentelemetry/resources';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as AutoInstrumentations from '@opentelemetry/auto-instrumentations-node';

type Config = 'a' | 'b' | 'c' | 'd';
const LABELS: Record<Config, string> = {
  a: '(a) no telemetry',
  b: '(b) telemetry-core defaults',
  c: '(c) incident mode (100%)',
  d: '(d) auto-instrumentations-node',
};

/** A body of `count` findings, the shape a policy-evaluate call receives. */
function requestBody(count: number): string {
  const severities = ['low', 'medium', 'high', 'critical'];
  return JSON.stringify({
    project: 'payments-api',
    findings: Array.from({ length: count }, (_, i) => ({
      id: `f-${i}`,
      purl: `pkg:npm/left-pad@1.${i}.0`,
      advisory: `CVE-2024-${1000 + i}`,
      severity: severities[i % 4],
      cvss: (i * 7) % 10 + 0.5,
      vex: i % 3 === 0 ? 'not_affected' : 'affected',
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// Child: one server configuration.
// ---------------------------------------------------------------------------------------------

interface Finding {
  id: string;
  purl: string;
  advisory: string;
  severity: string;
  cvss: number;
  vex: string;
}

async function child(config: Config, sink: string): Promise<void> {
  const { createRequire } = await import('node:module');
  const { createHash } = await import('node:crypto');
  const require = createRequire(import.meta.url);

  let wrap: <T>(fn: () => T) => T = (fn) => fn();
  let log: ((obj: object, msg: string) => void) | undefined;
  let debug: ((msg: string) => void) | undefined;
  let journey: ((seconds: number) => void) | undefined;
  let registerPlugins: ((app: FastifyInstance) => Promise<void>) | undefined;

  if (config === 'd') {
    // Stock auto-instrumentation: registered before fastify/http are loaded (CommonJS hooks).
    const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof TraceNode;
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof TraceBase;
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof TraceOtlp;
    const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof Resources;
    const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof Instrumentation;
    const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node') as typeof AutoInstrumentations;
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'bench-auto' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${sink}/v1/traces` }))],
    });
    provider.register();
    registerInstrumentations({ instrumentations: [getNodeAutoInstrumentations()] });
  }

  if (config === 'b' || config === 'c') {
    const core = await import('@stellaops/telemetry-core');
    const { openSync } = await import('node:fs');
    const { devNull } = await import('node:os');
    const source = new core.InMemoryIncidentModeSource();
    if (config === 'c') source.set({ tenant: 'acme', service: null, state: 'on', expires_at: null });
    await core.initTelemetry({
      service: 'bench-api',
      endpoint: sink,
      sampling: { incidentSource: source, ...(process.env['BENCH_NO_TAIL'] ? { tail: false as const } : {}) },
      metrics: { exportIntervalMillis: 5000 },
      ...(process.env['BENCH_LOG_EXPORT'] ? { logs: { exportLevel: process.env['BENCH_LOG_EXPORT'] as 'warn' } } : {}),
    });
    const logger = core.createLogger({ service: 'bench-api', destination: openSync(devNull, 'w') });
    log = (obj, msg) => logger.info(obj, msg);
    debug = (msg) => logger.debug(msg);
    journey = (s) => core.recordJourney('policy_evaluate', s, { 'stella.tenant_id': 'acme' });
    wrap = (fn) => core.withSpan(core.SPAN_NAMES.policyEvaluate, { 'stella.policy.version': 'p-42' }, fn);
    registerPlugins = async (app) => {
      await app.register(core.fastifyTelemetry, { service: 'bench-api', ignoreRoutes: ['/metrics'] });
      await app.register(core.fastifyMetrics);
      app.addHook('preHandler', (req, _reply, done) => core.enterRequestContext(req, { tenant_id: String(req.headers['x-tenant'] ?? 'anonymous') }, done));
    };
  }

  const Fastify = require('fastify') as typeof FastifyFactory;
  const app = Fastify({ logger: false });
  if (registerPlugins) await registerPlugins(app);

  app.post('/policy/evaluate', async (request) => {
    const started = performance.now();
    const { project, findings } = request.body as { project: string; findings: Finding[] };
    const result = wrap(() => {
      debug?.('evaluating findings');
      const scored = findings.map((f) => {
        const digest = createHash('sha256').update(`${f.purl}|${f.advisory}|${f.severity}`).digest('hex');
        const effective = f.vex === 'not_affected' ? 0 : f.cvss * (f.severity === 'critical' ? 1.5 : 1);
        return { id: f.id, advisory: f.advisory, digest, score: Math.round(effective * 100) / 100 };
      });
      scored.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1));
      const bySeverity: Record<string, number> = {};
      for (const f of findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
      return { project, effect: scored[0]!.score >= 9 ? 'deny' : 'allow', top: scored.slice(0, 5), bySeverity, evaluated: scored.length };
    });
    log?.({ action: 'policy.evaluate', decision_effect: result.effect, details: { evaluated: result.evaluated } }, 'policy evaluated');
    journey?.((performance.now() - started) / 1000);
    return result;
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  let base = process.cpuUsage();
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'cpu-start') {
      base = process.cpuUsage();
      process.send!({ cmd: 'cpu-started' });
    } else if (msg.cmd === 'cpu-stop') {
      const d = process.cpuUsage(base);
      process.send!({ cmd: 'cpu', micros: d.user + d.system, rss: process.memoryUsage.rss() });
    } else if (msg.cmd === 'exit') {
      void app.close().finally(() => process.exit(0));
    }
  });
  process.send!({ cmd: 'ready', port: (app.server.address() as AddressInfo).port });
}

// ---------------------------------------------------------------------------------------------
// Parent: sink, load, report.
// ---------------------------------------------------------------------------------------------

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  cpuPerReqUs: number;
  requests: number;
  non2xx: number;
  errors: number;
  rssMb: number;
}

function request<T>(proc: ChildProcess, cmd: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (msg: { cmd: string }): void => {
      if (msg.cmd === reply) {
        proc.off('message', onMessage);
        resolve(msg as T);
      }
    };
    proc.on('message', onMessage);
    proc.send({ cmd });
  });
}

async function measure(
  config: Config,
  sink: string,
  opts: { duration: number; warmup: number; connections: number; findings: number; profileDir?: string },
): Promise<Measurement> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [])],
    // Servers load telemetry-core as services run it, compiled (dist/), not its TypeScript
    // sources through the development loader (which adds work of its own to every closure).
    env: { ...process.env, NODE_OPTIONS: withoutSourceCondition(process.env['NODE_OPTIONS']), STELLA_BENCH_CHILD: config, STELLA_BENCH_SINK: sink, STELLA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(proc, 'message')) as [{ cmd: string; port: number }];
  const url = `http://127.0.0.1:${ready.port}/policy/evaluate`;
  const load = { url, method: 'POST' as const, body: requestBody(opts.findings), headers: { 'content-type': 'application/json', 'x-tenant': 'acme' }, connections: opts.connections };
  await autocannon({ ...load, duration: opts.warmup });
  await request(proc, 'cpu-start', 'cpu-started');
  const result = await autocannon({ ...load, duration: opts.duration });
  const cpu = await request<{ micros: number; rss: number }>(proc, 'cpu-stop', 'cpu');
  proc.send({ cmd: 'exit' });
  await once(proc, 'exit');
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    cpuPerReqUs: cpu.micros / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors,
    rssMb: cpu.rss / 1024 / 1024,
  };
}

function withoutSourceCondition(nodeOptions: string | undefined): string {
  return (nodeOptions ?? '').replace(/--conditions[= ]@stellaops\/source/g, '').trim();
}

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

export default async function run(args: string[] = []): Promise<void> {
  const duration = arg(args, 'duration', 10);
  // The warm-up covers the first export of every signal (module loading, connection set-up).
  const warmup = arg(args, 'warmup', 6);
  const findings = arg(args, 'findings', 200);
  const connections = arg(args, 'connections', 50);
  const rounds = arg(args, 'rounds', 2);
  const profIdx = args.indexOf('--cpu-prof');
  const profileDir = profIdx >= 0 ? args[profIdx + 1] : undefined;
  const onlyIdx = args.indexOf('--only');
  const configs = (onlyIdx >= 0 ? String(args[onlyIdx + 1]).split(',') : ['a', 'b', 'c', 'd']).filter((c): c is Config => c in LABELS);

  if (configs.some((c) => c === 'b' || c === 'c')) {
    // The compiled library must be the current sources (an incremental build: quick when it is).
    execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), 'packages/telemetry-core/tsconfig.build.json'], { stdio: 'inherit' });
  }

  // OTLP/HTTP sink: accepts and discards, like a healthy collector.
  let received = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

  console.log(
    `overhead: ${rounds} round(s) x ${configs.length} configs, ${duration}s each (+${warmup}s warm-up), ${connections} connections, ${findings} findings per request, node ${process.version}`,
  );
  const results: Record<string, Measurement[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const m = await measure(c, sinkUrl, { duration, warmup, connections, findings, profileDir });
      (results[c] ??= []).push(m);
      console.log(`  round ${r + 1} ${LABELS[c].padEnd(34)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  cpu/req ${m.cpuPerReqUs.toFixed(1)} µs  rss ${m.rssMb.toFixed(0)} MiB${m.non2xx || m.errors ? `  non2xx=${m.non2xx} errors=${m.errors}` : ''}`);
    }
  }
  sink.close();

  const agg = Object.fromEntries(
    Object.entries(results).map(([c, ms]) => [c, { rps: mean(ms.map((m) => m.rps)), p50: mean(ms.map((m) => m.p50)), p99: mean(ms.map((m) => m.p99)), cpu: mean(ms.map((m) => m.cpuPerReqUs)) }]),
  ) as Record<Config, { rps: number; p50: number; p99: number; cpu: number }>;
  const a = agg.a;
  console.log('\nconfiguration                        req/s   p50 ms  p99 ms  cpu/req µs   req/s vs (a)  p99 Δ ms  cpu/req vs (a)');
  for (const c of configs) {
    const x = agg[c];
    const ratio = a ? (x.rps / a.rps).toFixed(3) : '-';
    const dp99 = a ? (x.p99 - a.p99).toFixed(2) : '-';
    const cpuRatio = a ? (x.cpu / a.cpu).toFixed(3) : '-';
    console.log(`${LABELS[c].padEnd(34)} ${x.rps.toFixed(0).padStart(8)} ${x.p50.toFixed(2).padStart(8)} ${x.p99.toFixed(2).padStart(7)} ${x.cpu.toFixed(1).padStart(11)} ${ratio.padStart(14)} ${dp99.padStart(9)} ${cpuRatio.padStart(15)}`);
  }
  if (a) {
    console.log('\nadded server CPU per request vs (a): ' + configs.filter((c) => c !== 'a').map((c) => `${c} +${(agg[c].cpu - a.cpu).toFixed(1)} µs`).join(', '));
  }
  if (a && agg.b) {
    const over = (x: { rps: number }): number => 1 - x.rps / a.rps;
    const cpuOver = (x: { cpu: number }): number => x.cpu / a.cpu - 1;
    console.log('\ntargets:');
    console.log(`  (b) req/s loss ${(over(agg.b) * 100).toFixed(1)}% (target ≤ 5%), p99 +${(agg.b.p99 - a.p99).toFixed(2)} ms (target ≤ +0.5 ms), cpu/req +${(cpuOver(agg.b) * 100).toFixed(1)}%`);
    if (agg.c) console.log(`  (c) req/s loss ${(over(agg.c) * 100).toFixed(1)}% (target ≤ 15%), cpu/req +${(cpuOver(agg.c) * 100).toFixed(1)}%`);
    if (agg.d) {
      console.log(`  (d) req/s loss ${(over(agg.d) * 100).toFixed(1)}%, cpu/req +${(cpuOver(agg.d) * 100).toFixed(1)}%`);
      console.log(`  (b)/(d) overhead ratio: req/s ${(over(agg.b) / over(agg.d)).toFixed(2)}, cpu/req ${(cpuOver(agg.b) / cpuOver(agg.d)).toFixed(2)} (target ≤ 0.5)`);
    }
  }
  console.log(`\nOTLP sink received ${(received / 1024 / 1024).toFixed(1)} MiB`);
}

const childConfig = process.env['STELLA_BENCH_CHILD'] as Config | undefined;
if (childConfig && process.send) await child(childConfig, process.env['STELLA_BENCH_SINK'] ?? '');
