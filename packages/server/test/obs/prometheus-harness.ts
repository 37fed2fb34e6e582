/**
 * A real Prometheus (and Alertmanager) for the tests that hold the service to Prometheus'
 * answers: samples written once as OpenMetrics text with timestamps, loaded with
 * `promtool tsdb create-blocks-from openmetrics` into a temporary data directory, and
 * `prometheus` started on a free port over it (optionally with rule files and an Alertmanager).
 * Debian/Ubuntu: `apt-get install prometheus prometheus-alertmanager`. With CI=true a missing
 * binary fails the suite; elsewhere the suite is skipped with a message saying why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CI = process.env['CI'] === 'true';

function runs(command: string): boolean {
  return spawnSync(command, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** True when every command runs; throws under CI when one does not. */
export function requireBinaries(...commands: string[]): boolean {
  const missing = commands.filter((c) => !runs(c));
  if (missing.length === 0) return true;
  const message = `${missing.join(', ')} not installed (Debian/Ubuntu: apt-get install prometheus prometheus-alertmanager)`;
  if (CI) throw new Error(`${message}; CI=true requires it`);
  console.warn(`SKIPPING: ${message} (set CI=true to make this a failure)`);
  return false;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` naming what it waited for. */
export async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface RunningProcess {
  url: string;
  dir: string;
  /** What the process wrote so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

function startProcess(command: string, args: string[], dir: string, url: string, readyPath: string, timeoutMs: number): Promise<RunningProcess> {
  let output = '';
  const child: ChildProcess = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const running: RunningProcess = {
    url,
    dir,
    output: () => output,
    stop: async () => {
      if (!exited && child.pid !== undefined) child.kill('SIGTERM');
      await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      if (!exited && child.pid !== undefined) child.kill('SIGKILL');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return poll(
    `${command} at ${url}`,
    async () => {
      if (exited) throw new Error(`${command} exited: ${output.slice(-2000)}`);
      const res = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return res?.ok ? running : undefined;
    },
    timeoutMs,
  ).catch(async (error: unknown) => {
    await running.stop();
    throw error;
  });
}

export interface PrometheusOptions {
  /** OpenMetrics text with timestamps (ending in `# EOF`), backfilled into the data directory. */
  openMetrics: string;
  /** Rule files by name. */
  rules?: Record<string, string>;
  /** Rule evaluation interval. Default 1s. */
  evaluationInterval?: string;
  /** Alertmanager to send alerts to (`host:port`). */
  alertmanager?: string;
}

/** Backfills the samples and starts Prometheus on a free port over them. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'stella-prometheus-'));
  writeFileSync(join(dir, 'data.om'), options.openMetrics);
  const backfill = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', 'data.om', 'data'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (backfill.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`promtool tsdb create-blocks-from openmetrics failed: ${backfill.stdout}${backfill.stderr}`);
  }
  const rules = Object.entries(options.rules ?? {});
  for (const [name, text] of rules) writeFileSync(join(dir, name), text);
  const config = [
    'global:',
    `  evaluation_interval: ${options.evaluationInterval ?? '1s'}`,
    ...(rules.length ? ['rule_files:', ...rules.map(([name]) => `  - ${name}`)] : []),
    ...(options.alertmanager ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${options.alertmanager}']`] : []),
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  return startProcess(
    'prometheus',
    [
      '--config.file=prometheus.yml',
      '--storage.tsdb.path=data',
      '--storage.tsdb.retention.time=90d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      // Alerts go out as soon as they fire.
      '--rules.alert.resend-delay=1s',
    ],
    dir,
    `http://127.0.0.1:${port}`,
    '/-/ready',
    60_000,
  );
}

/** Starts Alertmanager on a free port with the given configuration (YAML). */
export async function startAlertmanager(configYaml: string): Promise<RunningProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'stella-alertmanager-'));
  writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
  const port = await freePort();
  return startProcess(
    'prometheus-alertmanager',
    // An empty cluster address runs it alone (no gossip port).
    ['--config.file=alertmanager.yml', '--storage.path=data', `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    dir,
    `http://127.0.0.1:${port}`,
    '/-/ready',
    60_000,
  );
}

/** GET a Prometheus API path; the `data` of a successful answer. */
export async function promApi<T>(url: string, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
  return body.data;
}
