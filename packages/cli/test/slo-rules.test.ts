/**
 * `stella slo rules` turns OpenSLO files into the Prometheus rules and promtool tests the
 * generator writes: the shipped SLOs give rules promtool accepts (lint included) and tests that
 * pass; a bad SLO is refused naming the field, with exit code 2 and nothing written.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSloRules, loadSlos } from '@stellaops/collector-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';

const SLO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'slo');
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
if (!promtool && process.env['CI'] === 'true') throw new Error('promtool is required in CI (Debian package prometheus; .ci/run installs it)');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-slo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stella(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir });
  return { code: await run(argv), out, err };
}

describe('stella slo rules', () => {
  it('writes the generator’s rules and tests for the shipped SLOs', async () => {
    const res = await stella('slo', 'rules', '--in', SLO_DIR, '--out', 'rules/../slo-rules.yaml', '--tests', 'slo-rules.test.yaml', '--json');
    expect(res.code, res.err).toBe(0);
    const doc = JSON.parse(res.out) as { ok: boolean; slos: string[] };
    const slos = await loadSlos(SLO_DIR);
    expect(doc.slos).toEqual(slos.map((s) => s.name));
    expect(await readFile(join(dir, 'slo-rules.yaml'), 'utf8')).toBe(generateSloRules(slos));
    expect(await readFile(join(dir, 'slo-rules.test.yaml'), 'utf8')).toContain('rule_files:\n  - slo-rules.yaml');
  });

  it.skipIf(!promtool)('gives rules promtool accepts with --lint=all, and tests promtool passes', async () => {
    execFileSync(promtool!, ['check', 'rules', '--lint=all', '--lint-fatal', 'slo-rules.yaml'], { cwd: dir, stdio: 'pipe' });
    execFileSync(promtool!, ['test', 'rules', 'slo-rules.test.yaml'], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
  }, 150_000);

  it('refuses an SLO it cannot express, naming the field, and writes nothing', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: bad\nspec:\n  service: x\n  budgetingMethod: Occurrences\n  indicator:\n    metadata:\n      name: i\n    spec:\n      thresholdMetric:\n        metricSource:\n          spec:\n            query: up\n  objectives:\n    - target: 0.99\n  timeWindow:\n    - duration: 30d\n      isRolling: true\n',
    );
    const res = await stella('slo', 'rules', '--in', 'bad.yaml', '--out', 'bad-rules.yaml');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/thresholdMetric/);
    expect(existsSync(join(dir, 'bad-rules.yaml'))).toBe(false);
  });
});
