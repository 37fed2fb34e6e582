/**
 * `stella dora` against a listening service: records deployments and incidents for the tenant
 * named with --tenant (a token of two tenants needs it), prints the report as text with its
 * trace id, and as the service's JSON with --json; usage errors and service errors exit 2.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { startTestService, type TestService } from '../../server/test/helpers/service.js';

let t: TestService;
let server: string;
let token: string;
let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: { STELLA_SERVER: server, STELLA_TOKEN: token }, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-dora-'));
  t = await startTestService();
  await t.service.listen();
  server = `http://127.0.0.1:${(t.service.app.server.address() as { port: number }).port}`;
  token = await t.token('acme', ['acme', 'beta'].flatMap((tenant) => [`stella:dora:write#tenant/${tenant}`, `stella:dora:read#tenant/${tenant}`]));
}, 180_000);
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const DEPLOY = ['--service', 'checkout', '--env', 'production', '--commit-time', '2026-03-01T08:00:00Z'];

describe('stella dora', () => {
  it('records for the tenant named with --tenant, and says which tenant a two-tenant token needs', async () => {
    const ambiguous = await stella(['dora', 'record', 'deployment', '--id', 'd-0', ...DEPLOY, '--deploy-time', '2026-03-01T10:00:00Z', '--outcome', 'success']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(/tenant\.ambiguous/);
    expect(ambiguous.err).toMatch(/hint: name the tenant with --tenant/);

    for (const [id, deployAt, outcome, pipeline] of [
      ['d-1', '2026-03-01T10:00:00Z', 'success', 'Main Line'],
      ['d-2', '2026-03-02T10:00:00Z', 'rollback', 'main_line'],
      ['d-3', '2026-03-02T12:00:00Z', 'success', ''],
    ] as const) {
      const r = await stella(['dora', 'record', 'deployment', '--tenant', 'acme', '--id', id, ...DEPLOY, '--pipeline', pipeline, '--deploy-time', deployAt, '--outcome', outcome]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`recorded deployment ${id} of checkout to production \\(${outcome}\\)\\ntrace_id [0-9a-f]{32}\\n$`));
    }
    const again = await stella(['dora', 'record', 'deployment', '--tenant', 'acme', '--id', 'd-1', ...DEPLOY, '--pipeline', 'Main Line', '--deploy-time', '2026-03-01T10:00:00Z', '--outcome', 'success', '--json']);
    expect(again.json()).toMatchObject({ ok: true, created: false, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const conflict = await stella(['dora', 'record', 'deployment', '--tenant', 'acme', '--id', 'd-1', ...DEPLOY, '--deploy-time', '2026-03-01T10:00:00Z', '--outcome', 'failed', '--json']);
    expect(conflict.code).toBe(2);
    expect(conflict.json().error.code).toBe('dora.deployment_conflict');

    const inc = await stella(['dora', 'record', 'incident', '--tenant', 'acme', '--id', 'i-1', '--env', 'production', '--severity', 'sev1', '--started-at', '2026-03-02T10:05:00Z', '--acknowledged-at', '2026-03-02T10:20:00Z', '--resolved-at', '2026-03-02T11:05:00Z']);
    expect(inc.code, inc.err).toBe(0);
    expect(inc.out).toMatch(/recorded incident i-1 \(sev1, resolved\) in production/);
    // Nothing of it reached beta.
    const beta = await stella(['dora', 'metrics', '--tenant', 'beta', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-03T00:00:00Z', '--json']);
    expect(beta.json()).toMatchObject({ tenant: 'beta', deployments_total: 0 });
  });

  it('prints the report as text with its trace id, and the service’s document with --json', async () => {
    const window = ['--tenant', 'acme', '--env', 'production', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-03T00:00:00Z'];
    const text = await stella(['dora', 'report', ...window]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^DORA for acme, environment production, 2026-03-01T00:00:00.000Z to 2026-03-03T00:00:00.000Z \(2 days\)\n/);
    expect(text.out).toMatch(/level (ELITE|HIGH|MEDIUM|LOW): deployment frequency elite/);
    expect(text.out).toMatch(/ {2}main-line +2 +1 +50\.0 %/);
    expect(text.out).toMatch(/ {2}unknown +1 +0 +0\.0 %/);
    expect(text.out).toMatch(/ {2}2026-03-02 +2 +1 +1 +1/);
    expect(text.out).toMatch(/trace_id [0-9a-f]{32}\n$/);

    const json = await stella(['dora', 'report', ...window, '--json']);
    const { ok, trace_id, ...report } = json.json();
    expect(ok).toBe(true);
    expect(trace_id).toMatch(/^[0-9a-f]{32}$/);
    const direct = await t.service.app.inject({ url: '/dora/report?environment=production&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z', headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' } });
    expect(report).toEqual(direct.json());
    expect(report.mttr_hours).toBe(1);
  });

  it('refuses bad flags before asking the service', async () => {
    const outcome = await stella(['dora', 'record', 'deployment', '--tenant', 'acme', '--id', 'd-9', ...DEPLOY, '--deploy-time', '2026-03-01T10:00:00Z', '--outcome', 'maybe']);
    expect(outcome.code).toBe(2);
    expect(outcome.err).toMatch(/--outcome must be one of success, rollback, hotfix, failed/);
    const time = await stella(['dora', 'report', '--tenant', 'acme', '--from', 'yesterday', '--to', '2026-03-03T00:00:00Z', '--json']);
    expect(time.code).toBe(2);
    expect(time.json().error).toMatchObject({ code: 'usage', message: expect.stringMatching(/--from must be an RFC 3339 time/) });
    const before = await stella(['dora', 'record', 'deployment', '--tenant', 'acme', '--id', 'd-8', ...DEPLOY, '--deploy-time', '2026-03-01T07:00:00Z', '--outcome', 'success', '--json']);
    expect(before.code).toBe(2);
    expect(before.json().error).toMatchObject({ code: 'dora.record_invalid', message: expect.stringMatching(/deploy_time .* is before commit_time/) });
  });
});
