/**
 * For the tests of the service's self-observation: its `/metrics` as samples of the Prometheus
 * text format by name and labels, promtool's verdict on the text, and waiting for a condition.
 * With CI=true a missing promtool fails the suite; elsewhere the promtool checks are skipped
 * with a message saying why.
 */
import { spawnSync } from 'node:child_process';
import type { StellaService } from '../../src/index.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    out.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none, an error when several. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}: ${JSON.stringify(found.map((s) => s.labels))}`);
  return found[0]?.value;
}

/** GET /metrics of a service (in-process), as text and samples. */
export async function scrape(service: StellaService, accept?: string): Promise<{ text: string; contentType: string; samples: Sample[] }> {
  const r = await service.app.inject({ method: 'GET', url: '/metrics', headers: accept ? { accept } : {} });
  if (r.statusCode !== 200) throw new Error(`/metrics answered ${r.statusCode}: ${r.body}`);
  const contentType = String(r.headers['content-type']);
  return { text: r.body, contentType, samples: contentType.startsWith('text/plain') ? parseSamples(r.body) : [] };
}

export const CI = process.env['CI'] === 'true';

/** True when promtool runs; throws under CI when it does not. */
export function requirePromtool(): boolean {
  if (spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0) return true;
  const message = 'promtool is not installed (Debian/Ubuntu: apt-get install prometheus)';
  if (CI) throw new Error(`${message}; CI=true requires it`);
  console.warn(`SKIPPING promtool checks: ${message} (set CI=true to make this a failure)`);
  return false;
}

/** `promtool check metrics` on `text`: its exit status and everything it printed (lint problems). */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Polls `check` until it answers something other than undefined; fails naming `what` after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
