/** Runs the `stella` CLI as a user would (its own process), with `--json`, and returns its verdict. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

export interface CliRun {
  args: string[];
  exitCode: number | null;
  json: Record<string, unknown> | undefined;
  stderr: string;
}

export function stellaCli(args: string[], env: { server: string; token: string; tenant: string }, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/cli/bin/stella.js'), ...args, '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, STELLA_SERVER: env.server, STELLA_TOKEN: env.token, STELLA_TENANT: env.tenant },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(out) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({ args, exitCode: code, json, stderr: err.slice(0, 2000) });
    });
  });
}
