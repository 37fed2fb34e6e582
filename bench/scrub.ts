/**
 * Micro-benchmark of the scrubber's clean and dirty paths: `npm run bench -- scrub`. Baseline in the same run:
 * a shallow object spread of the same record, the cheapest copy a logger could make, and
 * JSON.stringify of it (a lower bound for what any logger spends per line serialising).
 * "fresh" objects carry values never seen before (no clean-verdict cache hits).
 * Then the labelled corpus (the tests' tuning and held-out splits): recall per class, overall
 * recall and precision, and the time to scrub its lines.
 * Usage: npm run bench -- scrub [--classes] (--classes prints the per-class table)
 */
import { compileScrubPolicy, scrubText, scrubValue } from '@stellaops/telemetry-core';
import { CORPUS_REPO_ROOT, negativeCorpus, positiveCorpus } from '../packages/telemetry-core/test/scrub/corpus.js';
import { holdoutNegatives, holdoutPositives } from '../packages/telemetry-core/test/scrub/corpus-holdout.js';
import { formatScores, scoreCorpus } from '../packages/telemetry-core/test/scrub/corpus-metrics.js';

const policy = compileScrubPolicy({ repoRoot: '/srv/stellaops' });

const clean = {
  service: 'scanner',
  route: '/api/v1/scans',
  method: 'POST',
  status_code: 202,
  duration_ms: 41.7,
  tenant_id: 'acme',
  request_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  digest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  image: 'ghcr.io/stellaops/scanner:1.4.2',
  cached: true,
  msg: 'scan accepted',
};
const dirty = { ...clean, msg: 'login by alice@example.com with token=abc123def', password: 'hunter2' };

function time(label: string, iterations: number, fn: () => unknown): number {
  for (let i = 0; i < iterations / 10; i++) fn();
  const start = process.hrtime.bigint();
  let sink: unknown;
  for (let i = 0; i < iterations; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  if (sink === Symbol.for('never')) console.log(sink);
  console.log(`${label.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/op`);
  return ns;
}

const FRESH = 200_000;
const fresh = Array.from({ length: FRESH }, (_, i) => ({
  ...clean,
  route: `/api/v1/scans/${i}`,
  request_id: `0f8fad5b-d9cb-469f-a165-${String(i).padStart(12, '0')}`,
  image: `ghcr.io/stellaops/scanner:1.4.${i}`,
  msg: `scan ${i} accepted`,
  service: `scanner-${i}`,
}));

function corpus(showClasses: boolean): void {
  const corpusPolicy = compileScrubPolicy({ repoRoot: CORPUS_REPO_ROOT });
  const scrub = (text: string): string => scrubText(text, corpusPolicy);
  const splits = {
    tuning: scoreCorpus(positiveCorpus(), negativeCorpus(), scrub),
    'held-out': scoreCorpus(holdoutPositives(), holdoutNegatives(), scrub),
  };
  const table = formatScores(splits).split('\n');
  console.log('\nlabelled corpus (packages/telemetry-core/test/scrub):');
  for (const line of showClasses ? table : table.filter((l) => /^(tuning|held-out):/.test(l))) console.log(`  ${line}`);
  const lines = [...positiveCorpus(), ...holdoutPositives(), ...negativeCorpus(), ...holdoutNegatives()].map((l) => l.line);
  let i = 0;
  time(`scrubText, corpus lines (${lines.length}, mixed)`, lines.length * 20, () => scrubText(lines[i++ % lines.length]!, corpusPolicy));
}

export default async function run(args: string[] = []): Promise<void> {
  const n = 1_000_000;
  const json = time('baseline: JSON.stringify of the object', n / 4, () => JSON.stringify(clean));
  const base = time('baseline: shallow spread of 12-field object', n, () => ({ ...clean }));
  const cleanNs = time('scrubValue, 12-field clean object', n, () => scrubValue(clean, policy));
  let f = 0;
  const freshNs = time('scrubValue, 12-field clean object, fresh values', FRESH, () => scrubValue(fresh[f++ % FRESH], policy));
  const dirtyNs = time('scrubValue, same object with 2 secrets', n / 10, () => scrubValue(dirty, policy));
  time('scrubText, clean short id', n, () => scrubText('0f8fad5b-d9cb-469f-a165-70867728950e', policy));
  time('scrubText, clean message with route', n, () => scrubText('GET /api/v1/scans 202 in 41ms', policy));
  time('scrubText, secret-bearing message', n / 10, () => scrubText('POST https://u:p4ss@db:5432 ok', policy));
  console.log(
    `clean/stringify ${(cleanNs / json).toFixed(2)}, fresh/stringify ${(freshNs / json).toFixed(2)}, ` +
      `clean/spread ${(cleanNs / base).toFixed(1)}, dirty/clean ${(dirtyNs / cleanNs).toFixed(1)}`,
  );
  console.log(`same reference for clean object: ${scrubValue(clean, policy) === clean}`);
  corpus(args.includes('--classes'));
}
