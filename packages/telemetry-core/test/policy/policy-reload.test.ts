/**
 * The telemetry policy file in a running instance: loaded at start (env or option), applied to
 * span scrubbing, metric labels and the sealed-mode egress check, followed for changes, and
 * never replaced by a broken edit. Waits are on the reload event, each bounded.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TelemetryPolicyError,
  createLogger,
  createTelemetry,
  initTelemetry,
  type TelemetryHandle,
  type TelemetryOptions,
  type TelemetryPolicyReload,
} from '../../src/index.js';
import { captureStream } from '../helpers.js';

let dir: string;
let handle: TelemetryHandle | undefined;
const ENV = 'STELLA_TELEMETRY_POLICY';
const savedEnv = process.env[ENV];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'telemetry-policy-reload-'));
  delete process.env[ENV];
});

afterEach(async () => {
  await handle?.shutdown({ timeoutMs: 2000 });
  handle = undefined;
  if (savedEnv === undefined) delete process.env[ENV];
  else process.env[ENV] = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});

/** Replaces the file in one step (write aside, rename), as editors and config managers do. */
function replace(file: string, text: string): void {
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, text);
  renameSync(aside, file);
}

/** The next reload event, or a rejection after `timeoutMs`. */
function nextReload(h: TelemetryHandle, timeoutMs = 5000): Promise<TelemetryPolicyReload> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no policy reload within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = h.onPolicyReload((event) => {
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

function start(options: Partial<TelemetryOptions> = {}): Promise<TelemetryHandle> {
  return createTelemetry({ service: 'policy-reload', endpoint: '', sampling: { ratio: 1, tail: false }, ...options });
}

function email(): string {
  return `someone-${process.pid}@example.com`;
}

async function spanAttributes(h: TelemetryHandle, exporter: InMemorySpanExporter, attributes: Record<string, string>): Promise<Record<string, unknown>> {
  exporter.reset();
  h.tracer.startSpan('policy.test', { attributes }).end();
  await h.forceFlush();
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return { ...spans[0]!.attributes };
}

describe('policy file at start', () => {
  it('loads the file STELLA_TELEMETRY_POLICY names and scrubs exported span attributes with it', async () => {
    const file = join(dir, 'telemetry-policy.yaml');
    writeFileSync(file, 'version: 1\nallowKeys: [contact]\nredactKeys: [ssn]\n');
    process.env[ENV] = file;
    const spans = new InMemorySpanExporter();
    const before = Date.now();
    handle = await start({ exporters: { spans }, policyReload: false });
    expect(handle.policy.file).toBe(file);
    expect(handle.policy.loadedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(handle.policy.policy).toMatchObject({ version: 1, allowKeys: ['contact'], redactKeys: ['ssn'] });
    expect(handle.policy.scrub.allowKeys.has('contact')).toBe(true);
    expect(await spanAttributes(handle, spans, { contact: email(), customer_ssn: '123-45-6789', owner: email() })).toEqual({
      contact: email(),
      customer_ssn: '[REDACTED:key]',
      owner: '[REDACTED:email]',
    });
  });

  it('takes the option over the environment; an empty option means no file', async () => {
    const fromEnv = join(dir, 'env.yaml');
    const fromOption = join(dir, 'option.yaml');
    writeFileSync(fromEnv, 'version: 1\nredactKeys: [from_env]\n');
    writeFileSync(fromOption, 'version: 1\nredactKeys: [from_option]\n');
    process.env[ENV] = fromEnv;
    handle = await start({ policyFile: fromOption, policyReload: false });
    expect(handle.policy.policy.redactKeys).toEqual(['from_option']);
    await handle.shutdown();
    handle = await start({ policyFile: '' });
    expect(handle.policy.file).toBeUndefined();
    expect(handle.policy.policy).toEqual({ version: 1, allowKeys: [], redactKeys: [], egress: { allowlist: [] } });
  });

  it('adds the file lists to the options and lets its scalars win', async () => {
    const file = join(dir, 'merge.yaml');
    writeFileSync(file, 'version: 1\nallowKeys: [from_file]\nredactKeys: [badge]\nrepoRoot: /srv/from-file\n');
    handle = await start({
      policyFile: file,
      policyReload: false,
      scrub: { allowKeys: ['from_code'], redactKeys: ['ssn'], repoRoot: '/srv/from-code' },
      egress: { allowlist: ['otel.from-code.corp'] },
    });
    expect(handle.policy.scrub.allowKeys.has('from_code')).toBe(true);
    expect(handle.policy.scrub.allowKeys.has('from_file')).toBe(true);
    expect(handle.policy.scrub.extraRedactKeys).toEqual(['ssn', 'badge']);
    expect(handle.policy.scrub.repoRoot).toBe('/srv/from-file');
    expect(handle.policy.egressAllowlist).toEqual(['otel.from-code.corp']);
  });

  it('fails the start on a file that cannot be used, naming the file and the field', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'version: 1\negress:\n  allowlist: [10.0.0.0/8]\n');
    const started = start({ policyFile: file });
    await expect(started).rejects.toBeInstanceOf(TelemetryPolicyError);
    await expect(started).rejects.toThrow(`telemetry policy ${file}: "egress.allowlist" item 0 "10.0.0.0/8": CIDR ranges are not supported`);
    await expect(start({ policyFile: join(dir, 'missing.yaml') })).rejects.toMatchObject({ code: 'TELEMETRY_POLICY_NOT_FOUND' });
  });

  it('initTelemetry loads it too', async () => {
    const file = join(dir, 'init.yaml');
    writeFileSync(file, 'version: 1\nredactKeys: [badge]\n');
    process.env[ENV] = file;
    handle = await initTelemetry({ service: 'policy-init', endpoint: '', exporters: { spans: new InMemorySpanExporter() }, policyReload: false });
    expect(handle.policy.file).toBe(file);
    expect(handle.policy.scrub.extraRedactKeys).toEqual(['badge']);
  });
});

describe('log lines follow the policy file', () => {
  it('under initTelemetry, loggers without a policy of their own apply the file and its changes; one with its own keeps it', async () => {
    const file = join(dir, 'logs.yaml');
    writeFileSync(file, 'version: 1\nredactKeys: [badge]\n');
    const following = captureStream();
    const own = captureStream();
    const follower = createLogger({ service: 'policy-logs', destination: following.stream });
    const independent = createLogger({ service: 'policy-logs', destination: own.stream, scrub: { allowKeys: ['contact'] } });
    handle = await initTelemetry({ service: 'policy-logs', endpoint: '', exporters: { spans: new InMemorySpanExporter() }, policyFile: file, policyReload: { debounceMs: 20, pollIntervalMs: 60_000 } });
    const later = createLogger({ service: 'policy-logs', destination: following.stream });
    follower.info({ badge: 'B-1', contact: email() }, 'first');
    later.info({ badge: 'B-1' }, 'later');
    independent.info({ badge: 'B-1', contact: email() }, 'own');
    expect(following.lines().map((l) => [l['msg'], l['badge'], l['contact']])).toEqual([
      ['first', '[REDACTED:key]', '[REDACTED:email]'],
      ['later', '[REDACTED:key]', undefined],
    ]);
    expect(own.lines()[0]).toMatchObject({ badge: 'B-1', contact: email() });

    const reloaded = nextReload(handle);
    replace(file, 'version: 1\nallowKeys: [contact]\n');
    expect(await reloaded).toMatchObject({ ok: true, changed: true });
    follower.info({ badge: 'B-2', contact: email() }, 'after');
    expect(following.lines().at(-1)).toMatchObject({ msg: 'after', badge: 'B-2', contact: email() });

    // After shutdown they are back to their own (built-in) policy.
    await handle.shutdown({ timeoutMs: 2000 });
    handle = undefined;
    follower.info({ badge: 'B-3', contact: email() }, 'stopped');
    expect(following.lines().at(-1)).toMatchObject({ msg: 'stopped', badge: 'B-3', contact: '[REDACTED:email]' });
  });
});

describe('sealed-mode egress allowlist', () => {
  const enclave = 'https://otel.enclave.corp:4318/v1/traces';
  const sealed = { sealed: true, resolve: async () => ['192.0.2.10'] };

  it('allows an endpoint the file lists, blocks it without the file', async () => {
    const file = join(dir, 'egress.yaml');
    writeFileSync(file, 'version: 1\negress:\n  allowlist: [otel.enclave.corp]\n');
    const logs = captureStream();
    const logger = createLogger({ service: 'policy-egress', destination: logs.stream });
    handle = await start({ policyFile: file, policyReload: false, endpoints: { traces: enclave }, egress: sealed, logger });
    expect(handle.egress).toEqual([expect.objectContaining({ signal: 'traces', allowed: true, reason: 'allowlisted' })]);
    await handle.shutdown();
    handle = await start({ policyFile: '', endpoints: { traces: enclave }, egress: sealed, logger });
    expect(handle.egress).toEqual([expect.objectContaining({ signal: 'traces', allowed: false, reason: 'resolves_non_loopback' })]);
    const warning = logs.lines().find((l) => l['action'] === 'telemetry.egress_blocked');
    expect(String(warning?.['msg'])).toMatch(/egress allowlist \(telemetry policy `egress\.allowlist`\)/);
  });

  it('reports an allowlist change on reload as taking effect at the next start', async () => {
    const file = join(dir, 'egress-reload.yaml');
    writeFileSync(file, 'version: 1\n');
    const logs = captureStream();
    const logger = createLogger({ service: 'policy-egress', destination: logs.stream });
    handle = await start({ policyFile: file, endpoints: { traces: enclave }, egress: sealed, logger });
    expect(handle.egress[0]).toMatchObject({ allowed: false });
    const reloaded = nextReload(handle);
    replace(file, 'version: 1\negress:\n  allowlist: [otel.enclave.corp]\n');
    const event = await reloaded;
    expect(event).toMatchObject({ ok: true, changed: true, egressChanged: true });
    expect(handle.policy.egressAllowlist).toEqual(['otel.enclave.corp']);
    // The exporters were decided at start.
    expect(handle.egress[0]).toMatchObject({ allowed: false });
    const pending = logs.lines().filter((l) => l['action'] === 'telemetry.policy_egress_pending');
    expect(pending).toHaveLength(1);
    expect(String(pending[0]!['msg'])).toMatch(/exporters apply it at the next start/);
  });
});

describe('reload', () => {
  it('applies a changed file to span scrubbing and metric labels, and ignores a broken edit', async () => {
    const file = join(dir, 'telemetry-policy.yaml');
    writeFileSync(file, 'version: 1\nredactKeys: [ssn]\n');
    const logs = captureStream();
    const spans = new InMemorySpanExporter();
    handle = await start({
      policyFile: file,
      policyReload: { debounceMs: 20, pollIntervalMs: 60_000 },
      exporters: { spans },
      logger: createLogger({ service: 'policy-reload', destination: logs.stream }),
    });
    const first = handle.policy;
    expect(await spanAttributes(handle, spans, { badge: 'B-1', contact: email() })).toEqual({ badge: 'B-1', contact: '[REDACTED:email]' });

    let reloaded = nextReload(handle);
    replace(file, 'version: 1\nredactKeys: [ssn, badge]\nallowKeys: [contact]\n');
    let event = await reloaded;
    expect(event).toMatchObject({ ok: true, changed: true, egressChanged: false });
    expect(handle.policy).not.toBe(first);
    expect(handle.policy.policy.redactKeys).toEqual(['ssn', 'badge']);
    expect(handle.policy.loadedAt.getTime()).toBeGreaterThanOrEqual(first.loadedAt.getTime());
    expect(await spanAttributes(handle, spans, { badge: 'B-1', contact: email() })).toEqual({ badge: '[REDACTED:key]', contact: email() });
    handle.metrics.counter('stella.test.contacts', 'Contacts.').add(1, { contact: email(), badge: 'B-1' });
    const exposition = (await handle.renderMetrics()).body;
    expect(exposition).toMatch(new RegExp(`stella_test_contacts_total\\{[^}]*badge="\\[REDACTED:key\\]"[^}]*contact="${email().replace(/[.]/g, '\\.')}"`));
    expect(logs.lines().filter((l) => l['action'] === 'telemetry.policy_reloaded')).toHaveLength(1);

    const good = handle.policy;
    reloaded = nextReload(handle);
    replace(file, 'version: 1\nredactKeys: [ssn]\nmaxStringLength: 3\n');
    event = await reloaded;
    expect(event.ok).toBe(false);
    if (event.ok) return;
    expect(event.error).toMatchObject({ code: 'TELEMETRY_POLICY_INVALID', field: 'maxStringLength', file });
    expect(event.policy).toBe(good);
    expect(handle.policy).toBe(good);
    // Asking again about the same broken content changes nothing and warns no more.
    expect(handle.reloadPolicy()).toMatchObject({ ok: false, error: { field: 'maxStringLength' } });
    const warnings = logs.lines().filter((l) => l['action'] === 'telemetry.policy_rejected');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', error_code: 'TELEMETRY_POLICY_INVALID' });
    expect(String(warnings[0]!['msg'])).toMatch(/telemetry-policy\.yaml not applied \("maxStringLength" must be an integer ≥ 64 \(got 3\)\); keeping the policy loaded at /);
    expect(await spanAttributes(handle, spans, { badge: 'B-2' })).toEqual({ badge: '[REDACTED:key]' });

    reloaded = nextReload(handle);
    replace(file, 'version: 1\nredactKeys: [ssn]\n');
    event = await reloaded;
    expect(event).toMatchObject({ ok: true, changed: true });
    expect(await spanAttributes(handle, spans, { badge: 'B-3' })).toEqual({ badge: 'B-3' });
  });

  it('picks up changes by the periodic stat check alone, including a file removed and put back', async () => {
    const file = join(dir, 'polled.yaml');
    writeFileSync(file, 'version: 1\nredactKeys: [one]\n');
    const logs = captureStream();
    handle = await start({
      policyFile: file,
      policyReload: { watch: false, pollIntervalMs: 25, debounceMs: 10 },
      logger: createLogger({ service: 'policy-reload', destination: logs.stream }),
    });
    let reloaded = nextReload(handle);
    replace(file, 'version: 1\nredactKeys: [two]\n');
    expect(await reloaded).toMatchObject({ ok: true, changed: true });
    expect(handle.policy.policy.redactKeys).toEqual(['two']);

    const kept = handle.policy;
    reloaded = nextReload(handle);
    unlinkSync(file);
    const missing = await reloaded;
    expect(missing).toMatchObject({ ok: false, error: { code: 'TELEMETRY_POLICY_NOT_FOUND' } });
    expect(handle.policy).toBe(kept);

    reloaded = nextReload(handle);
    replace(file, 'version: 1\nredactKeys: [two]\n');
    expect(await reloaded).toMatchObject({ ok: true, changed: true });
    expect(logs.lines().filter((l) => l['action'] === 'telemetry.policy_rejected')).toHaveLength(1);
  });

  it('survives its directory disappearing and a listener that throws', async () => {
    const sub = join(dir, 'conf');
    mkdirSync(sub);
    const file = join(sub, 'telemetry-policy.yaml');
    writeFileSync(file, 'version: 1\n');
    handle = await start({
      policyFile: file,
      policyReload: { debounceMs: 10, pollIntervalMs: 25 },
      logger: createLogger({ service: 'policy-reload', destination: captureStream().stream }),
    });
    const off = handle.onPolicyReload(() => {
      throw new Error('listener failure');
    });
    let reloaded = nextReload(handle);
    rmSync(sub, { recursive: true, force: true });
    expect(await reloaded).toMatchObject({ ok: false, error: { code: 'TELEMETRY_POLICY_NOT_FOUND' } });

    reloaded = nextReload(handle);
    mkdirSync(sub);
    replace(file, 'version: 1\nallowKeys: [back]\n');
    expect(await reloaded).toMatchObject({ ok: true, changed: true });
    expect(handle.policy.policy.allowKeys).toEqual(['back']);
    off();
  });

  it('stops following the file at shutdown', async () => {
    const file = join(dir, 'stop.yaml');
    writeFileSync(file, 'version: 1\n');
    handle = await start({ policyFile: file, policyReload: { debounceMs: 10, pollIntervalMs: 25 } });
    const events: TelemetryPolicyReload[] = [];
    handle.onPolicyReload((e) => events.push(e));
    const stopped = handle.policy;
    await handle.shutdown();
    replace(file, 'version: 1\nredactKeys: [late]\n');
    // An explicit reload after shutdown is a no-op: the watcher and timers are gone with it.
    expect(handle.reloadPolicy()).toMatchObject({ ok: true, changed: false });
    expect(handle.policy).toBe(stopped);
    expect(events).toEqual([]);
    handle = undefined;
  });
});
