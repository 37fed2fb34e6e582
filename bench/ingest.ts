/**
 * `npm run bench -- ingest [--spans N] [--steady-seconds S] [--steady-rate R] [--capture-spans M]`
 *
 * The embedded OTLP receiver on one core (SPEC STO-2, FOR-1, issue targets):
 *   1. ceiling: protobuf decode alone of the same batches (512 realistic spans each);
 *   2. in-process ingest (decode + scrub + segment append + batched index) without HTTP;
 *   3. saturated OTLP/HTTP protobuf from a separate load-generator process (so the service's
 *      CPU is its own), index flushed at the end;
 *   4. steady R spans/s (default 10k) for S seconds against the service as it runs in
 *      production (`main.ts` in its own process, on a data directory initialised by an
 *      earlier start): its CPU share and peak RSS, beside the same process idle (the floor of
 *      Node.js plus the embedded PGlite) measured in the same run;
 *   5. forensic capture of M spans (default 1M) vs `tar czf` of the same segment files.
 * Ratios are against the ceiling and against tar in the same run. With BENCH_CPU_PROF_DIR set,
 * the service processes of step 4 write V8 CPU profiles there (`node --cpu-prof`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, DevAuthority, resolveConfig } from '../packages/server/src/index.ts';
import type { CaptureRuntime } from '../packages/server/src/capture/capture-feature.ts';
import type { OtlpRuntime } from '../packages/server/src/otlp/otlp-feature.ts';
import { decodeRequest, encodeRequest, type TraceRequest } from '../packages/server/src/segments/signal-records.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const ROUTES = ['/policy/evaluate', '/sbom/ingest', '/advisories/link', '/vex/reconcile', '/export/bundle'];

/** One request of `n` spans: a server span per trace with 3 children, OTel semantic-convention attributes. */
function batch(n: number, seq: number): Uint8Array {
  const spans = [];
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  let traceId = randomBytes(16);
  let rootId = randomBytes(8);
  for (let i = 0; i < n; i++) {
    const isRoot = i % 4 === 0;
    if (isRoot) {
      traceId = randomBytes(16);
      rootId = randomBytes(8);
    }
    const route = ROUTES[(seq + i) % ROUTES.length]!;
    const start = nowNs - BigInt(1_000_000 * (n - i));
    spans.push({
      traceId,
      spanId: isRoot ? rootId : randomBytes(8),
      parentSpanId: isRoot ? Buffer.alloc(0) : rootId,
      name: isRoot ? `POST ${route}` : i % 4 === 1 ? 'policy.evaluate' : i % 4 === 2 ? 'pg.query' : 'redis.get',
      kind: isRoot ? 2 : i % 4 === 2 ? 3 : 1,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(2_000_000 + (i % 50) * 100_000)).toString(),
      attributes: [
        { key: 'http.route', value: { stringValue: route } },
        { key: 'http.request.method', value: { stringValue: 'POST' } },
        { key: 'http.response.status_code', value: { intValue: i % 97 === 0 ? 500 : 200 } },
        { key: 'url.path', value: { stringValue: `${route}/${seq}-${i}` } },
        { key: 'user_agent.original', value: { stringValue: 'stella-cli/0.1.0 node/20' } },
        { key: 'stella.tenant_id', value: { stringValue: 'bench' } },
        { key: 'policy.version', value: { stringValue: '2025.03.1' } },
        { key: 'db.system', value: { stringValue: 'postgresql' } },
        { key: 'db.query.text', value: { stringValue: 'SELECT id, status FROM findings WHERE tenant_id = $1 AND component = $2' } },
        { key: 'server.address', value: { stringValue: 'policy-engine.stella.svc' } },
      ],
      status: { code: i % 97 === 0 ? 2 : 0 },
    });
  }
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'policy-engine' } }, { key: 'service.version', value: { stringValue: '1.4.2' } }, { key: 'deployment.environment.name', value: { stringValue: 'bench' } }] };
  const json = { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@stellaops/telemetry-core', version: '0.1.0' }, spans }] }] };
  return encodeRequest('traces', json as never as TraceRequest);
}

const LOADGEN = `
const http = require('node:http');
const fs = require('node:fs');
const [port, token, dir, count, total, rate] = process.argv.slice(1);
const bodies = Array.from({ length: Number(count) }, (_, i) => fs.readFileSync(dir + '/b' + i + '.pb'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let sent = 0, inflight = 0, errors = 0, next = 0;
const started = Date.now();
function one() {
  if (sent >= Number(total)) { if (inflight === 0) { process.stdout.write(JSON.stringify({ errors, ms: Date.now() - started })); agent.destroy(); } return; }
  const body = bodies[next++ % bodies.length]; sent++; inflight++;
  const req = http.request({ port: Number(port), host: '127.0.0.1', path: '/v1/traces', method: 'POST', agent,
    headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer ' + token, 'content-length': body.length } }, (res) => {
    res.resume(); res.on('end', () => { if (res.statusCode !== 200) errors++; inflight--; schedule(); });
  });
  req.on('error', () => { errors++; inflight--; schedule(); });
  req.end(body);
}
function schedule() {
  if (Number(rate) > 0) {
    const due = started + (sent / Number(rate)) * 1000;
    setTimeout(one, Math.max(0, due - Date.now()));
  } else one();
}
for (let i = 0; i < (Number(rate) > 0 ? 1 : 8); i++) schedule();
`;

function loadgen(port: number, token: string, dir: string, count: number, requests: number, requestsPerSec: number): Promise<{ errors: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOADGEN, String(port), token, dir, String(count), String(requests), String(requestsPerSec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { errors: number; ms: number }) : reject(new Error(`load generator exited ${code}`))));
  });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const MAIN = fileURLToPath(new URL('../packages/server/src/main.ts', import.meta.url));

/** Starts the service's own entry point on `dataDir`; resolves with the process and its OTLP/HTTP port. */
function startServiceProcess(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(process.env['BENCH_CPU_PROF_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF_DIR']}`] : []), '--import', 'tsx', MAIN, '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'info', '--otlp-tenant-records-per-sec', '100000000', '--otlp-tenant-bytes-per-sec', String(2 ** 40)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('OTLP receiver listening'));
      if (!line) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ child, port: (JSON.parse(line) as { details: { otlp_http_port: number } }).details.otlp_http_port });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited before listening (code ${code})`)));
  });
}

async function stopServiceProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds (user + system) and resident set of a process, from /proc. */
function procStat(pid: number): { cpu: number; system: number; rssMiB: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const system = Number(fields[12]) / 100;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: ticks / 100, system, rssMiB: Number(rss?.[1] ?? 0) / 1024 };
}

/** Samples a process for `ms`: CPU share of one core and peak RSS. */
async function sample(pid: number, during: Promise<unknown> | number): Promise<{ share: number; systemShare: number; peakMiB: number; lastMiB: number }> {
  const first = procStat(pid);
  const t0 = performance.now();
  let peak = first.rssMiB;
  let last = first.rssMiB;
  const timer = setInterval(() => {
    last = procStat(pid).rssMiB;
    peak = Math.max(peak, last);
  }, 100);
  await (typeof during === 'number' ? new Promise((r) => setTimeout(r, during)) : during);
  clearInterval(timer);
  const end = procStat(pid);
  const seconds = (performance.now() - t0) / 1000;
  return { share: (end.cpu - first.cpu) / seconds, systemShare: (end.system - first.system) / seconds, peakMiB: Math.max(peak, end.rssMiB), lastMiB: end.rssMiB };
}

export default async function run(args: string[]): Promise<void> {
  const totalSpans = flag(args, 'spans', 200_000);
  const steadySeconds = flag(args, 'steady-seconds', 10);
  const steadyRate = flag(args, 'steady-rate', 10_000);
  const captureSpans = flag(args, 'capture-spans', 1_000_000);
  const SPANS_PER_BATCH = 512;
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-bench-ingest-'));
  const batchDir = mkdtempSync(join(tmpdir(), 'stella-bench-batches-'));
  try {
    const bodies = Array.from({ length: 40 }, (_, i) => batch(SPANS_PER_BATCH, i));
    bodies.forEach((b, i) => writeFileSync(join(batchDir, `b${i}.pb`), b));
    console.log(`ingest bench: batches of ${SPANS_PER_BATCH} spans, ${(bodies[0]!.length / SPANS_PER_BATCH).toFixed(0)} bytes/span on the wire, node ${process.version}`);

    // 1. Ceiling: decode alone.
    let t0 = performance.now();
    let decoded = 0;
    while (decoded < totalSpans) for (const b of bodies) decoded += (decodeRequest('traces', b) as TraceRequest).resourceSpans[0]!.scopeSpans[0]!.spans.length;
    const decodeRate = decoded / ((performance.now() - t0) / 1000);
    console.log(`decode only (ceiling)            ${Math.round(decodeRate).toLocaleString('en')} spans/s`);

    const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'error', '--otlp-tenant-records-per-sec', '100000000', '--otlp-tenant-bytes-per-sec', String(2 ** 40)]);
    const service = await createService({ config });
    await service.listen();
    const otlp = service.features.get('otlp') as OtlpRuntime;
    const telemetry = service.parts.telemetry;
    const ports = await otlp.listening();
    const token = await service.devAuthority!.mint({ tenant: 'bench', scopes: ['stella:telemetry:write#tenant/bench'], ttlSeconds: 86_400 });

    // 2. In-process ingest: decode + scrub + append + index (flushed).
    t0 = performance.now();
    let ingested = 0;
    for (let i = 0; ingested < totalSpans; i++) ingested += (await otlp.ingestor.ingest('bench', 'traces', bodies[i % bodies.length]!, 'protobuf')).accepted;
    const appendSec = (performance.now() - t0) / 1000;
    await telemetry.index.flush();
    const inProcessRate = ingested / ((performance.now() - t0) / 1000);
    console.log(`ingest in-process, to disk (decode+scrub+append, index queued) ${Math.round(ingested / appendSec).toLocaleString('en')} spans/s  (${((ingested / appendSec / decodeRate) * 100).toFixed(0)}% of ceiling)`);
    console.log(`ingest in-process, indexed (… + PGlite index flushed) ${Math.round(inProcessRate).toLocaleString('en')} spans/s  (${((inProcessRate / decodeRate) * 100).toFixed(0)}% of ceiling)`);

    // 3. Saturated OTLP/HTTP from a separate process.
    const requests = Math.ceil(totalSpans / SPANS_PER_BATCH);
    const cpu0 = cpuSeconds();
    t0 = performance.now();
    const sat = await loadgen(ports.http, token, batchDir, bodies.length, requests, 0);
    await telemetry.index.flush();
    const wall = (performance.now() - t0) / 1000;
    const satCpu = cpuSeconds() - cpu0;
    const httpRate = (requests * SPANS_PER_BATCH) / wall;
    console.log(
      `OTLP/HTTP saturated               ${Math.round(httpRate).toLocaleString('en')} spans/s wall, ${Math.round((requests * SPANS_PER_BATCH) / satCpu).toLocaleString('en')} spans per service CPU-second (${((httpRate / decodeRate) * 100).toFixed(0)}% of ceiling; errors ${sat.errors}; target ≥ 80,000/core)`,
    );

    // 4. Steady rate against the service in its own process (a production start on an initialised data directory).
    const steadyDir = mkdtempSync(join(tmpdir(), 'stella-bench-steady-'));
    try {
      await stopServiceProcess((await startServiceProcess(steadyDir)).child); // first start: initdb and migrations
      const { child, port } = await startServiceProcess(steadyDir);
      const steadyToken = await (await DevAuthority.open(steadyDir)).mint({ tenant: 'bench', scopes: ['stella:telemetry:write#tenant/bench'], ttlSeconds: 86_400 });
      await new Promise((r) => setTimeout(r, 2000)); // settle after start
      const idle = await sample(child.pid!, steadySeconds * 1000);
      const steadyRequests = Math.ceil((steadyRate * steadySeconds) / SPANS_PER_BATCH);
      const steadyRun = loadgen(port, steadyToken, batchDir, bodies.length, steadyRequests, steadyRate / SPANS_PER_BATCH);
      const busy = await sample(child.pid!, steadyRun);
      const steady = await steadyRun;
      console.log(
        `steady ${steadyRate.toLocaleString('en')} spans/s for ${steadySeconds}s (service process)  CPU ${(busy.share * 100).toFixed(1)}% of a core (${(busy.systemShare * 100).toFixed(1)}% in the kernel; idle ${(idle.share * 100).toFixed(1)}%; target ≤ 12%), peak RSS ${busy.peakMiB.toFixed(0)} MiB (idle ${idle.peakMiB.toFixed(0)} MiB: Node.js + embedded PGlite; target ≤ 200 MiB), errors ${steady.errors}`,
      );
      await stopServiceProcess(child);
    } finally {
      rmSync(steadyDir, { recursive: true, force: true });
    }

    // 5. Capture of M spans vs tar czf of the segment files.
    let stored = ingested + requests * SPANS_PER_BATCH;
    for (let i = 0; stored < captureSpans; i++) stored += (await otlp.ingestor.ingest('bench', 'traces', bodies[i % bodies.length]!, 'protobuf')).accepted;
    await telemetry.index.flush();
    const capture = (service.features.get('capture') as CaptureRuntime).capture;
    t0 = performance.now();
    const plan = await capture.plan('bench', { fromMs: Date.now() - 6 * 3_600_000, toMs: Date.now() + 1000 });
    await capture.writeFile(plan, join(batchDir, 'capture.tar.gz'));
    const captureSec = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const tar = spawnSync('tar', ['czf', join(batchDir, 'segments.tar.gz'), '-C', join(dataDir, 'telemetry', 'segments'), 'bench']);
    const tarSec = (performance.now() - t0) / 1000;
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    console.log(
      `capture of ${plan.counts.traces.items.toLocaleString('en')} spans (${(plan.contentBytes / 1048576).toFixed(0)} MiB)   ${captureSec.toFixed(2)} s vs tar czf ${tarSec.toFixed(2)} s → ${(captureSec / tarSec).toFixed(2)}× (target ≤ 2×)`,
    );
    await service.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(batchDir, { recursive: true, force: true });
  }
}
