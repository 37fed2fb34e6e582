/**
 * The service's own entry point (`src/main.ts`) as a child process, the way `npm start` runs it:
 * resolves once the API and the OTLP/HTTP receiver listen (ports read from its log lines, so
 * `--port 0` and `--otlp-http-port 0` work), keeps the tail of stdout and stderr for failure
 * messages, and can be ended with any signal (SIGKILL included).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SERVICE_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Most characters of output kept per stream (the tail). */
const OUTPUT_TAIL = 200_000;

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:<port>` of the API. */
  apiUrl: string;
  apiPort: number;
  /** `http://127.0.0.1:<port>` of the OTLP/HTTP receiver. */
  otlpHttpUrl: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  /** Resolves once the process ended, with its exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process ended. */
  readonly running: boolean;
  /** The tail of what it wrote: stdout (NDJSON log lines), then stderr. */
  output(): string;
  /** Sends `signal` and waits until the process ended. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Flags after the defaults (`--host 127.0.0.1 --port 0 --otlp-http-port 0 --otlp-grpc-port 0 --log-level info`); later flags win. */
  args?: string[];
  /** Environment added to this process's own (which carries vitest's `NODE_OPTIONS`, so the sources resolve). */
  env?: Record<string, string | undefined>;
  /** Longest wait for both listeners. Default 60000. */
  readyTimeoutMs?: number;
}

/** Starts `src/main.ts` with tsx and resolves once it listens; rejects with its output if it exits or stalls first. */
export function startServiceProcess(options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const args = ['--import', 'tsx', SERVICE_MAIN, '--host', '127.0.0.1', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'info', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let pending = '';
  let api: number | undefined;
  let otlp: { http: number; grpc: number } | undefined;
  const output = (): string => `--- stdout (tail) ---\n${out}\n--- stderr (tail) ---\n${err}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-OUTPUT_TAIL)));

  return new Promise<ServiceProcess>((resolve, reject) => {
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}\n${output()}`));
    };
    const timer = setTimeout(() => fail(`the service did not listen within ${options.readyTimeoutMs ?? 60_000} ms`), options.readyTimeoutMs ?? 60_000);
    child.once('error', (error) => fail(`the service could not be started: ${error.message}`));
    void exited.then(({ code, signal }) => fail(`the service exited before listening (code ${code}, signal ${signal})`));
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      out = (out + text).slice(-OUTPUT_TAIL);
      if (settled) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        let entry: { msg?: string; message?: string; details?: { address?: string; otlp_http_port?: number; otlp_grpc_port?: number } };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.details?.otlp_http_port !== undefined) otlp = { http: entry.details.otlp_http_port, grpc: entry.details.otlp_grpc_port ?? 0 };
        else if (typeof entry.details?.address === 'string' && /:(\d+)$/.test(entry.details.address)) api = Number(/:(\d+)$/.exec(entry.details.address)![1]);
      }
      if (api === undefined || otlp === undefined) return;
      settled = true;
      pending = '';
      clearTimeout(timer);
      const apiPort = api;
      const ports = otlp;
      const proc: ServiceProcess = {
        child,
        pid: child.pid!,
        apiPort,
        apiUrl: `http://127.0.0.1:${apiPort}`,
        otlpHttpPort: ports.http,
        otlpHttpUrl: `http://127.0.0.1:${ports.http}`,
        otlpGrpcPort: ports.grpc,
        exited,
        get running() {
          return child.exitCode === null && child.signalCode === null;
        },
        output,
        kill: async (signal = 'SIGKILL') => {
          if (proc.running) child.kill(signal);
          await exited;
        },
        stop: async (timeoutMs = 15_000) => {
          if (!proc.running) return;
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          await exited;
          clearTimeout(force);
        },
      };
      resolve(proc);
    });
  });
}
