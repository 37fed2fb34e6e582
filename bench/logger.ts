/**
 * Logger throughput: plain pino (no redaction) vs telemetry-core's logger with scrubbing and
 * context on vs winston, the same 100k-line realistic mix to a null destination.
 * Each logger runs in a child process of its own; the three children run in turn, `--repeat`
 * times, and each repeat gives its own ratios — on a shared machine the load moves between
 * children, and comparing neighbours keeps that drift out of the ratio. winston, ~25× slower,
 * logs a fifth of the lines (its rate per CPU-second does not depend on the count).
 * Usage: npm run bench -- logger [--lines 100000] [--rounds 5] [--repeat 3]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import winston from 'winston';
import { contextWithFields, createLogger, extractTraceContext, openSpan, withOtelContext } from '@stellaops/telemetry-core';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const nullDestination = { write: (_s: string) => true };

/** Deterministic realistic records: 10–15 fields, about 1 in 20 carrying a secret or e-mail. */
function records(n: number): { obj: Record<string, unknown>; msg: string }[] {
  const out: { obj: Record<string, unknown>; msg: string }[] = [];
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const hex = (len: number): string => Array.from({ length: len }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const routes = ['/api/sboms', '/policy/evaluate', '/advisories/link', '/vex/reconcile', '/exports'];
  for (let i = 0; i < Math.min(n, 5000); i++) {
    const obj: Record<string, unknown> = {
      resource: 'component',
      action: 'evaluate',
      route: routes[i % routes.length],
      method: 'POST',
      purl: `pkg:npm/%40scope/lib-${i % 300}@${1 + (i % 5)}.${i % 10}.${i % 7}`,
      digest: `sha256:${hex(64)}`,
      duration_ms: Math.round(rnd() * 500),
      status_code: 200,
      cve: `CVE-2024-${1000 + (i % 9000)}`,
      component_count: 300 + (i % 50),
      decision_effect: i % 3 === 0 ? 'deny' : 'allow',
      policy_version: 'baseline@7',
    };
    if (i % 20 === 0) obj['details'] = { authorization: `Bearer ${hex(40)}` };
    if (i % 20 === 7) obj['contact'] = `user${i}@example.com`;
    if (i % 5 === 0) obj['sbom_id'] = `sbom-${hex(8)}`;
    out.push({ obj, msg: i % 20 === 11 ? `fetched from https://svc:${hex(12)}@mirror.example/osv` : 'component evaluated' });
  }
  return out;
}

/** Logs `lines` lines in chunks of 20; `around` lets a variant run each chunk inside a request context. */
function measure(
  lines: number,
  batch: { obj: Record<string, unknown>; msg: string }[],
  log: (o: Record<string, unknown>, m: string) => void,
  around: (chunk: number, body: () => void) => void = (_i, body) => body(),
): number {
  const chunk = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const r = batch[i % batch.length]!;
      log(r.obj, r.msg);
    }
  };
  for (let i = 0; i < 5000; i += 20) around(i, () => chunk(i, i + 20)); // warm-up
  // CPU time, not wall time: on a shared machine other processes stretch wall time unevenly.
  const start = process.cpuUsage();
  for (let i = 0; i < lines; i += 20) around(i, () => chunk(i, Math.min(i + 20, lines)));
  const used = process.cpuUsage(start);
  return lines / ((used.user + used.system) / 1e6);
}

type Variant = 'pino' | 'stella' | 'winston';

/** Measures one logger in this process; each variant runs in its own child so their garbage never mixes. */
function measureVariant(variant: Variant, lines: number, rounds: number): number[] {
  const batch = records(lines);
  const identity = { service: 'policy-engine', version: '1.0.0', env: 'bench', region: 'eu-1', instance_id: 'i-1' };
  const out: number[] = [];
  if (variant === 'pino') {
    const plain = pino({ base: identity, messageKey: 'msg' }, nullDestination);
    for (let r = 0; r < rounds; r++) out.push(measure(lines, batch, (o, m) => plain.info(o, m)));
  } else if (variant === 'winston') {
    const win = winston.createLogger({
      level: 'info',
      defaultMeta: identity,
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      transports: [new winston.transports.Stream({ stream: new Writable({ write: (_c, _e, cb) => cb() }) })],
    });
    for (let r = 0; r < rounds; r++) out.push(measure(lines, batch, (o, m) => win.info(m, o)));
  } else {
    const stella = createLogger({ service: 'policy-engine', version: '1.0.0', env: 'bench', region: 'eu-1', instanceId: 'i-1', destination: nullDestination });
    const scope = openSpan('policy.evaluate', {}, extractTraceContext({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }));
    // A new request context every 20 lines, as a service writing a handful of lines per request would.
    const base = scope.ctx;
    for (let r = 0; r < rounds; r++) {
      out.push(
        measure(lines, batch, (o, m) => stella.info(o, m), (i, body) => {
          const ctx = contextWithFields({ tenant_id: 'acme', project_id: 'payments', actor: 'svc:runner', request_id: `req-${i}` }, base);
          withOtelContext(ctx, body);
        }),
      );
    }
  }
  return out;
}

export default async function run(args: string[]): Promise<void> {
  const lines = arg(args, 'lines', 100_000);
  const rounds = arg(args, 'rounds', 5);
  const repeat = arg(args, 'repeat', 3);
  const variantIdx = args.indexOf('--variant');
  if (variantIdx >= 0) {
    process.stdout.write(JSON.stringify(measureVariant(args[variantIdx + 1] as Variant, lines, rounds)));
    return;
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  const loadBefore = load();
  const results: Record<Variant, number[]> = { pino: [], stella: [], winston: [] };
  for (let r = 0; r < repeat; r++) {
    for (const variant of ['pino', 'stella', 'winston'] as Variant[]) {
      const n = variant === 'winston' ? Math.max(1000, Math.floor(lines / 5)) : lines;
      const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, 'logger', '--variant', variant, '--lines', String(n), '--rounds', String(rounds)], {
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`bench logger: variant ${variant} failed: ${child.stderr}`);
      results[variant].push(median(JSON.parse(child.stdout) as number[]));
    }
  }
  const ratios = (a: Variant, b: Variant): number[] => results[a].map((x, i) => x / results[b][i]!);
  const toPino = ratios('stella', 'pino');
  const toWinston = ratios('stella', 'winston');
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(12);
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(`logger benchmark: ${lines} lines (winston ${Math.max(1000, Math.floor(lines / 5))}) × ${rounds} rounds per child, ${repeat} repeats of pino → telemetry-core → winston, each in its own process; lines per CPU-second, median (node ${process.version})`);
  console.log(`  plain pino (no redaction)        ${fmt(median(results.pino))} lines/s`);
  console.log(`  telemetry-core (scrub + context) ${fmt(median(results.stella))} lines/s`);
  console.log(`  winston (json)                   ${fmt(median(results.winston))} lines/s`);
  console.log(`  ratio telemetry-core / pino    = ${median(toPino).toFixed(2)}×  (per repeat: ${list(toPino)}; target ≥ 0.75×)`);
  console.log(`  ratio telemetry-core / winston = ${median(toWinston).toFixed(2)}×  (per repeat: ${list(toWinston)}; target ≥ 2×)`);
  console.log(`  load average (1, 5, 15 min): ${loadBefore} at the start, ${load()} at the end`);
}
