/**
 * Running promtool (Debian: `apt-get install prometheus`). With CI=true a missing promtool
 * fails the suite; elsewhere its suites are skipped with a message saying why.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CI = process.env['CI'] === 'true';

function onPath(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** True when promtool runs; throws under CI when it does not. */
export function requirePromtool(): boolean {
  if (onPath()) return true;
  const message = 'promtool is not installed (Debian/Ubuntu: apt-get install prometheus)';
  if (CI) throw new Error(`${message}; CI=true requires it`);
  console.warn(`SKIPPING promtool checks: ${message} (set CI=true to make this a failure)`);
  return false;
}

export interface PromtoolResult {
  status: number | null;
  output: string;
}

export function promtool(args: readonly string[], cwd?: string): PromtoolResult {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd, timeout: 300_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Writes files into a fresh temporary directory and returns it. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stella-slo-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
