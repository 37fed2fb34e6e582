/**
 * Operator-supplied binaries the tests use when present: the OpenTelemetry Collector
 * (`OTELCOL_BIN`, e.g. otelcol-contrib 0.136.0), Tempo and Loki (on PATH). None can be installed
 * by the test suite, so without one its checks are skipped with a message saying why, CI or not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  status: number | null;
  output: string;
}

export function run(bin: string, args: readonly string[], cwd?: string): RunResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** The Collector binary named by OTELCOL_BIN, or undefined (with a message) when unset or not runnable. */
export function otelcolBin(): string | undefined {
  const bin = process.env['OTELCOL_BIN'];
  if (!bin) {
    console.warn('SKIPPING the Collector checks: OTELCOL_BIN is not set (an operator-supplied otelcol-contrib binary; set OTELCOL_BIN=/path/to/otelcol-contrib to run `validate` on every profile)');
    return undefined;
  }
  if (run(bin, ['--version']).status !== 0) {
    console.warn(`SKIPPING the Collector checks: OTELCOL_BIN=${bin} does not run`);
    return undefined;
  }
  return bin;
}

/** A binary on PATH answering `--version` (or `-version`), or undefined with a message. */
export function binaryOnPath(name: string, what: string): string | undefined {
  for (const flag of ['--version', '-version']) if (run(name, [flag]).status === 0) return name;
  console.warn(`SKIPPING the ${what} checks: ${name} is not on PATH (an operator-supplied binary)`);
  return undefined;
}

/** Writes files into a fresh temporary directory and returns it. */
export function tempDir(prefix: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
