/** Child processes of the demo: the service (spawned like `npm start`) and the workload services (forked, with IPC). */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (workload lives at packages/workload/src/demo). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A free TCP port on loopback (released before use; the window for a clash is tiny on one machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Every child still running, so a driver that is interrupted can take them down with it. */
const live = new Set<ChildProcess>();

/** Sends SIGTERM to every child process still running (for an interrupted driver). */
export function terminateChildren(): void {
  for (const child of live) child.kill('SIGTERM');
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

function manage(name: string, child: ChildProcess, logFile: string, graceful: () => void): ManagedProcess {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    logFile,
    exited,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      graceful();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts a TypeScript entry point with tsx, stdout (NDJSON logs) to `<logDir>/<name>.ndjson`, stderr to `<name>.stderr`. */
export function startProcess(name: string, entry: string, options: { args?: string[]; env?: NodeJS.ProcessEnv; logDir: string; ipc?: boolean }): ManagedProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${name}.ndjson`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const err = createWriteStream(join(options.logDir, `${name}.stderr`), { flags: 'a' });
  const common = { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  const child = options.ipc
    ? fork(join(REPO_ROOT, entry), options.args ?? [], { ...common, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    : spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, entry), ...(options.args ?? [])], common);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout!.pipe(out);
  child.stderr!.pipe(err);
  return manage(name, child, logFile, () => {
    if (options.ipc && child.connected) child.send({ type: 'shutdown' });
    else child.kill('SIGTERM');
  });
}

/** Waits for one IPC message of `type` (bounded). */
export function nextMessage<T extends { type: string }>(p: ManagedProcess, type: string, timeoutMs: number, filter: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${p.name}: no "${type}" message within ${timeoutMs} ms (see ${p.logFile} and the .stderr beside it)`));
    }, timeoutMs);
    const onMessage = (m: T): void => {
      if (m?.type === type && filter(m)) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${p.name} exited with code ${code} before "${type}" (see ${p.logFile} and the .stderr beside it)`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      p.child.off('message', onMessage);
      p.child.off('exit', onExit);
    };
    p.child.on('message', onMessage);
    p.child.once('exit', onExit);
  });
}

/** Polls `check` until it yields a value, failing after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
