/**
 * `stella telemetry deep-debug on|off|status` against a running service: on → status → off with
 * the grant's actor, reason and expiry in text and JSON, exit 0; refusals (no admin scope, a bad
 * TTL, nothing to switch off) exit 2 quoting the service's error_code; a missing flag is a usage
 * error (exit 2) that asks the service nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const TENANT = 'acme';
let svc: ReceiverService;
let server: string;
let dir: string;
let admin: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-deep-debug-'));
  svc = await startReceiver();
  server = `http://127.0.0.1:${(svc.service.app.server.address() as { port: number }).port}`;
  admin = await svc.token(TENANT, [`stella:telemetry:admin#tenant/${TENANT}`, `stella:timeline:read#tenant/${TENANT}`], { subject: 'user:sre-1' });
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await rm(dir, { recursive: true, force: true });
});

const env = (token = admin): Record<string, string> => ({ STELLA_SERVER: server, STELLA_TOKEN: token });

describe('stella telemetry deep-debug', () => {
  it('switches on, shows and switches off, in text and JSON', async () => {
    const on = await stella(['telemetry', 'deep-debug', 'on', '--tenant', TENANT, '--ttl', '30m', '--reason', 'support case 4711'], env());
    expect(on.code, on.err).toBe(0);
    expect(on.out).toMatch(/^deep debug ON for acme until \S+Z \(grant [0-9a-f-]{36}\): e-mail addresses and paths unredacted, secrets still redacted\ntrace_id [0-9a-f]{32}\n$/);

    const status = await stella(['telemetry', 'deep-debug', 'status', '--json'], env());
    expect(status.code, status.err).toBe(0);
    const doc = status.json();
    expect(doc).toMatchObject({ ok: true, tenant: TENANT, state: 'on', grants: [{ tenant: TENANT, actor: 'user:sre-1', reason: 'support case 4711' }], trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const grant = doc.grants[0];
    expect(Date.parse(grant.expires_at) - Date.parse(grant.enabled_at)).toBe(30 * 60_000);
    const text = await stella(['telemetry', 'deep-debug', 'status'], env());
    expect(text.out).toContain(`deep debug ON for acme until ${grant.expires_at}, by user:sre-1: support case 4711 (grant ${grant.grant_id})`);

    // Again: the grant is replaced with a new TTL.
    const again = await stella(['telemetry', 'deep-debug', 'on', '--ttl', '2h', '--reason', 'still looking', '--json'], env());
    expect(again.code, again.err).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, state: 'on', grant: { reason: 'still looking' }, replaced: { grant_id: grant.grant_id } });

    // Without --tenant: the token's one tenant.
    const off = await stella(['telemetry', 'deep-debug', 'off', '--reason', 'found it'], env());
    expect(off.code, off.err).toBe(0);
    expect(off.out).toMatch(/^deep debug OFF for acme \(grant [0-9a-f-]{36}, on since \S+ by user:sre-1, ended \S+\)\n/);
    const after = await stella(['telemetry', 'deep-debug', 'status', '--json'], env());
    expect(after.json()).toMatchObject({ state: 'off', grants: [], recent: [{ reason: 'still looking', end_reason: 'off', off_reason: 'found it' }, { grant_id: grant.grant_id, end_reason: 'replaced' }] });
    expect((await stella(['telemetry', 'deep-debug', 'status'], env())).out).toMatch(/^deep debug off for acme\nrecent grants:\n/);

    // The audit trail has each change, by the same actor.
    const audit = await svc.service.app.inject({ url: '/timeline?kind=audit.deep_debug.*', headers: { authorization: `Bearer ${admin}` } });
    expect((audit.json().events as { kind: string; actor: string }[]).map((e) => `${e.kind} ${e.actor}`).sort()).toEqual([
      'audit.deep_debug.off user:sre-1',
      'audit.deep_debug.on user:sre-1',
      'audit.deep_debug.on user:sre-1',
    ]);
  });

  it('exits 2 with the service error for a missing scope, a bad TTL and nothing to switch off', async () => {
    const reader = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const denied = await stella(['telemetry', 'deep-debug', 'on', '--ttl', '30m', '--reason', 'x'], env(reader));
    expect(denied.code).toBe(2);
    expect(denied.err).toMatch(/POST \/telemetry\/deep-debug → 403 auth\.scope_denied: the token lacks the scope stella:telemetry:admin#tenant\/acme .*\(trace_id [0-9a-f]{32}\)/);
    expect(denied.err).toMatch(/hint: use a token with stella:telemetry:admin#tenant\/acme/);

    const tooLong = await stella(['telemetry', 'deep-debug', 'on', '--ttl', '3d', '--reason', 'x', '--json'], env());
    expect(tooLong.code).toBe(2);
    expect(tooLong.json()).toMatchObject({ ok: false, error: { code: 'deepdebug.ttl_invalid', message: expect.stringMatching(/→ 400 deepdebug\.ttl_invalid: ttl "3d" must be a duration like 30m.*at most 24h/) } });

    const notOn = await stella(['telemetry', 'deep-debug', 'off', '--tenant', TENANT], env());
    expect(notOn.code).toBe(2);
    expect(notOn.err).toMatch(/DELETE \/telemetry\/deep-debug\/acme → 409 deepdebug\.not_active/);

    const otherTenant = await stella(['telemetry', 'deep-debug', 'on', '--tenant', 'globex', '--ttl', '30m', '--reason', 'x'], env());
    expect(otherTenant.code).toBe(2);
    expect(otherTenant.err).toMatch(/403 auth\.tenant_denied/);
  });

  it('refuses a missing --ttl or --reason as usage, and documents its flags in --help', async () => {
    const noTtl = await stella(['telemetry', 'deep-debug', 'on', '--reason', 'x'], env());
    expect(noTtl.code).toBe(2);
    expect(noTtl.err).toMatch(/required option '--ttl <duration>' not specified/);
    const noReason = await stella(['telemetry', 'deep-debug', 'on', '--ttl', '30m', '--json'], env());
    expect(noReason.code).toBe(2);
    expect(noReason.json()).toMatchObject({ ok: false, error: { code: 'usage' } });

    const help = await stella(['telemetry', 'deep-debug', 'on', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--ttl <duration>', '--reason <text>', '--tenant <tenant>', '--server <url>', '--token <jwt>', '--json']) expect(help.out).toContain(flag);
    expect(help.out).toContain('stella telemetry deep-debug on --tenant acme --ttl 30m --reason "support case 4711"');
    expect((await stella(['telemetry', 'deep-debug', '--help'])).out).toMatch(/on \[options\][\s\S]*off \[options\][\s\S]*status \[options\]/);
  });
});
