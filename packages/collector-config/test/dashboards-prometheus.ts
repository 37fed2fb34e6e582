/**
 * A real Prometheus for the dashboard tests (Debian: `apt-get install prometheus`): a temporary
 * config and data directory, a free loopback port, exemplar storage on, stopped by the caller.
 * With CI=true a missing binary fails the suite; elsewhere the suite is skipped with a message.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CI } from './helpers/promtool.ts';

export function requirePrometheus(): boolean {
  if (spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  const message = 'prometheus is not installed (Debian/Ubuntu: apt-get install prometheus)';
  if (CI) throw new Error(`${message}; CI=true requires it`);
  console.warn(`SKIPPING the dashboard queries: ${message} (set CI=true to make this a failure)`);
  return false;
}

/** Grafana's variables, as the tests substitute them. */
export function substituteGrafanaVariables(expr: string, values: { rateInterval: string; interval: string; range: string }): string {
  return expr.replaceAll('$__rate_interval', values.rateInterval).replaceAll('$__interval', values.interval).replaceAll('$__range', values.range);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it yields a value; fails after `timeoutMs` with what it was waiting for. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ScrapeTarget {
  job: string;
  /** `host:port` */
  address: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

export interface RunningPrometheus {
  url: string;
  /** Instant query at `time` (seconds; default now). Throws on an API error. */
  query(expr: string, time?: number): Promise<Sample[]>;
  /** Prometheus's formatter: parses the query without evaluating it; the error text or undefined. */
  parseError(expr: string): Promise<string | undefined>;
  /** Exemplars of the series a query selects, between `start` and `end` (seconds). */
  exemplars(expr: string, start: number, end: number): Promise<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }[]>;
  /** Scrape targets with their health and last error. */
  targets(): Promise<{ job: string; health: string; lastError: string; lastScrape: string }[]>;
  stop(): Promise<void>;
  log(): string;
}

async function api<T>(url: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success') throw new Error(`${body.errorType ?? res.status}: ${body.error ?? 'no error text'}`);
  return body.data;
}

export async function startPrometheus(targets: readonly ScrapeTarget[], options: { scrapeIntervalSeconds?: number } = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'stella-dashboards-prom-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const jobs = [...new Set(targets.map((t) => t.job))];
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: jobs.map((job) => ({ job_name: job, static_configs: [{ targets: targets.filter((t) => t.job === job).map((t) => t.address) }] })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage', '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      `Prometheus at ${url} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}: ${output.slice(-2000)}`);
        const r = await fetch(`${url}/-/ready`).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(expr, time) {
      const data = await api<{ resultType: string; result: Sample[] | [number, string] }>(`${url}/api/v1/query`, { query: expr, ...(time !== undefined ? { time: String(time) } : {}) });
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      return data.result as Sample[];
    },
    async parseError(expr) {
      try {
        await api<string>(`${url}/api/v1/format_query`, { query: expr });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    exemplars: (expr, start, end) => api(`${url}/api/v1/query_exemplars`, { query: expr, start: String(start), end: String(end) }),
    async targets() {
      const res = await fetch(`${url}/api/v1/targets?state=active`);
      const body = (await res.json()) as { data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string; lastScrape: string }[] } };
      return body.data.activeTargets.map((t) => ({ job: t.labels['job'] ?? '', health: t.health, lastError: t.lastError, lastScrape: t.lastScrape }));
    },
    stop,
    log: () => output,
  };
}
