/**
 * The installation and compliance pages — installing the telemetry stack, sealed mode, the SOC
 * handoff package, the compliance checklists and the RBAC page — say what exists: each begins
 * with the banner; each `stella` command they show (in a shell block or inline) is a command of
 * the CLI with options it has; the test files and deployment files they name exist; their links
 * resolve; the refusals the sealed-mode page quotes are the code's own; and the Offline Kit's
 * air-gapped steps run as written, from building the kit to importing it on a sealed host.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderProfile } from '@stellaops/collector-config';
import { checkEgress } from '@stellaops/telemetry-core';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../server/src/config.js';
import { resolveForensicsSettings } from '../../server/src/evidence/forensics-settings.js';
import { createProgram } from '../src/index.js';
import { startReceiver } from '../../server/test/otlp/otlp-helpers.js';
import { slug } from '../../collector-config/test/deploy/markdown-anchor.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PAGES = ['docs/install-telemetry-stack.md', 'docs/sealed-mode.md', 'docs/soc-handoff.md', 'docs/compliance-checklists.md', 'docs/rbac.md'];
const BANNER = '> Imposed rule: work of this type or tasks of this type on this component must also be applied everywhere else it should be applied.';
const read = (page: string): string => readFileSync(join(REPO, page), 'utf8');

/** The `sh` blocks of a page (indented ones too, inside list items). */
const shellBlocks = (text: string): string[] => [...text.matchAll(/^ *```sh\n([\s\S]*?)^ *```/gm)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
/** Inline code spans outside fenced blocks. */
const inlineCode = (text: string): string[] => [...text.replace(/^ *```[\s\S]*?^ *```/gm, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);

/** Every `stella …` invocation in a piece of code, as its words (up to a pipe, a closing parenthesis or the end). */
function stellaInvocations(code: string): string[][] {
  const out: string[][] = [];
  for (const m of code.matchAll(/(?:^|[\s($"])stella((?:[ \t]+[^\s)|;&]+)+)/g)) {
    const words = m[1]!.trim().split(/\s+/);
    if (words[0] && /^[a-z]/.test(words[0])) out.push(words);
  }
  return out;
}

const { program } = createProgram({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: REPO });

/** Walks `words` down the command tree; returns the problem, or undefined when the command (or command group) and every option exist. */
function checkInvocation(words: string[]): string | undefined {
  let cmd: Command = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    cmd = sub;
  }
  if (cmd === program) return `no command ${words[0]}`;
  // A command group named alone (`stella dora record`) refers to its commands.
  if (cmd.commands.length > 0 && i === words.length) return undefined;
  if (cmd.commands.length > 0) return `${cmd.name()} needs a subcommand (${cmd.commands.map((c) => c.name()).join(', ')}), got ${words[i] ?? 'none'}`;
  const longs = new Set(cmd.options.map((o) => o.long).filter((l): l is string => !!l));
  longs.add('--help');
  for (const w of words.slice(i)) {
    if (!w.startsWith('--')) continue;
    const flag = w.split('=')[0]!;
    if (!longs.has(flag)) return `${cmd.name()} has no option ${flag} (it has ${[...longs].join(' ')})`;
  }
  return undefined;
}

describe('the installation and compliance pages', () => {
  it.each(PAGES)('%s begins with the banner', (page) => {
    const lines = read(page).split('\n');
    expect(lines[0]).toMatch(/^# /);
    expect(lines[2]).toBe(BANNER);
  });

  it.each(PAGES)('%s shows only stella commands and options that exist', (page) => {
    const text = read(page);
    const invocations = [...shellBlocks(text), ...inlineCode(text)].flatMap(stellaInvocations);
    const problems = invocations.map((w) => [w.join(' '), checkInvocation(w)] as const).filter(([, p]) => p !== undefined);
    expect(problems).toEqual([]);
  });

  it.each(PAGES)('%s names test files and deployment files that exist', (page) => {
    const text = read(page);
    const code = [...shellBlocks(text), ...inlineCode(text)].join('\n');
    const named = [
      ...[...code.matchAll(/npx vitest run (\S+)/g)].map((m) => m[1]!),
      ...[...code.matchAll(/(?:^|\s)(deploy\/[\w./-]+\.(?:ya?ml|md|sh))/gm)].map((m) => m[1]!),
      // The kit's scripts, where an import puts them: they come from deploy/offline-kit/.
      ...[...code.matchAll(/\/opt\/stellaops\/offline-kit\/(scripts\/[\w.-]+\.sh)/g)].map((m) => `deploy/offline-kit/${m[1]!}`),
    ];
    expect(named.filter((f) => !existsSync(join(REPO, f)))).toEqual([]);
  });

  it.each(PAGES)('%s links to files and headings that exist', (page) => {
    const text = read(page);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      const path = file ? join(dirname(join(REPO, page)), file) : join(REPO, page);
      expect(existsSync(path), `${page}: ${target}`).toBe(true);
      if (anchor) {
        const headings = readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => /^#{1,6} /.test(l))
          .map((l) => slug(l.replace(/^#+\s*/, '')));
        expect(headings, `${page}: ${target}`).toContain(anchor);
      }
    }
  });

  it('the install page starts with the three ways to install, each linking to its steps', () => {
    const text = read('docs/install-telemetry-stack.md');
    const headings = text.split('\n').filter((l) => l.startsWith('## '));
    expect(headings[0]).toBe('## Three ways to install');
    const section = text.slice(text.indexOf('## Three ways to install'), text.indexOf('\n## ', text.indexOf('## Three ways to install') + 3));
    for (const anchor of ['#embedded-on-one-machine', '#running-a-stack-from-a-profile', '#the-offline-kit']) expect(section).toContain(`](${anchor})`);
    for (const cmd of ['npm start', 'stella telemetry deploy --profile', 'stella telemetry status', 'stella offline-kit build', 'stella offline-kit verify', 'STELLA_SEALED=true', 'stella telemetry replay']) {
      expect(section).toContain(cmd);
    }
  });
});

describe('docs/sealed-mode.md quotes the code', () => {
  const text = read('docs/sealed-mode.md');

  it("the service's refusals", () => {
    const refusal = (env: Record<string, string>): string => {
      try {
        const config = resolveConfig([], { STELLA_SEALED: 'true', ...env });
        resolveForensicsSettings(config, env);
      } catch (err) {
        if ((err as Error).name !== 'ConfigError') throw err;
        return (err as Error).message;
      }
      throw new Error(`not refused: ${JSON.stringify(env)}`);
    };
    const messages = [
      refusal({ STELLA_AUTH_JWKS_URL: 'https://authority.corp/jwks' }),
      refusal({ STELLA_INCIDENT_WEBHOOK_URL: 'https://hooks.corp/incident', STELLA_INCIDENT_WEBHOOK_SECRET: 'secret' }),
      refusal({ STELLA_EVIDENCE_TSA_URL: 'https://tsa.corp/tsr' }),
      refusal({ STELLA_EVIDENCE_S3_ENDPOINT: 'https://s3.corp:9000', STELLA_EVIDENCE_S3_BUCKET: 'evidence' }),
    ];
    for (const m of messages) expect(text).toContain(`\`${m}\``);
    expect(resolveConfig([], { STELLA_SEALED: 'true', STELLA_AUTH_JWKS_URL: 'http://127.0.0.1:9000/jwks' }).sealed).toBe(true);
    expect(resolveConfig(['--sealed'], {}).sealed).toBe(true);
  });

  it("the Collector profiles' refusal, and the egress guard's remediation", async () => {
    let message = '';
    try {
      renderProfile('default', { sealed: true, tempo: { endpoint: 'tempo.obs.corp:4317' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(/```text\n([\s\S]*?)\n```/.exec(text)![1]).toBe(message);
    const verdict = await checkEgress('http://10.20.0.5:4318/v1/traces', { sealed: true });
    expect(verdict).toMatchObject({ allowed: false, reason: 'non_loopback_address' });
    expect(text).toContain(`"remediation":${JSON.stringify(verdict.remediation)}`);
    for (const reason of ['loopback', 'local_file', 'allowlisted', 'non_loopback_address', 'resolves_non_loopback', 'unresolvable_host', 'remote_file', 'unsupported_scheme', 'invalid_endpoint']) {
      expect(text).toContain(`\`${reason}\``);
    }
  });
});

describe('docs/sealed-mode.md quotes the CLI', () => {
  it("stella telemetry replay's refusal on a sealed host", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stella-sealed-replay-'));
    try {
      let err = '';
      const keys = createProgram({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: dir });
      expect(await keys.run(['forensic', 'keygen', '--out', 'keys'])).toBe(0);
      const { run } = createProgram({ stdout: () => undefined, stderr: (t) => (err += t), env: { STELLA_SEALED: 'true' }, cwd: dir });
      const code = await run(['telemetry', 'replay', 'capture.tar.gz', '--to', 'http://10.20.0.5:4318', '--key', 'keys/signing.pub.pem']);
      expect(code).toBe(2);
      const quoted = [...read('docs/sealed-mode.md').matchAll(/```text\n([\s\S]*?)\n\s*```/g)].map((m) => m[1]!.trim());
      expect(quoted).toContain(err.split('\n')[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Offline Kit steps of the install page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stella-kit-steps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run as written: build and verify on the connected side, carry the public key, verify and import sealed', { timeout: 180_000 }, async () => {
    const text = read('docs/install-telemetry-stack.md');
    const kit = text.slice(text.indexOf('\n## The Offline Kit\n'));
    const blocks = shellBlocks(kit);
    const build = blocks.find((b) => b.includes('stella offline-kit build'))!;
    const importing = blocks.find((b) => b.includes('stella offline-kit import'))!;
    expect(importing).toBeDefined();
    symlinkSync(join(REPO, 'deploy'), join(dir, 'deploy'));
    const target = join(dir, 'opt');
    const run = async (line: string): Promise<{ code: number; out: string }> => {
      const env: Record<string, string> = {};
      let rest = line.replace('/opt/stellaops', target);
      for (let m = /^([A-Z_]+)=(\S+) /.exec(rest); m; m = /^([A-Z_]+)=(\S+) /.exec(rest)) {
        env[m[1]!] = m[2]!;
        rest = rest.slice(m[0].length);
      }
      let out = '';
      const { run: stella } = createProgram({ stdout: (t) => (out += t), stderr: (t) => (out += t), env, cwd: dir });
      const words = rest.split(/\s+/);
      expect(words[0], line).toBe('stella');
      return { code: await stella(words.slice(1)), out };
    };
    const lines = (b: string): string[] =>
      b
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
    for (const line of lines(build)) {
      const r = await run(line);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
    }
    // Carried across the gap: the kit and the public key, nothing else.
    copyFileSync(join(dir, 'kit-keys', 'signing.pub.pem'), join(dir, 'signing.pub.pem'));
    rmSync(join(dir, 'kit-keys'), { recursive: true });
    let imported = '';
    for (const line of lines(importing)) {
      const r = await run(line);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
      if (line.includes(' import ')) imported = r.out;
    }
    expect(imported).toMatch(/sealed host/);
    const kitDir = join(target, 'offline-kit');
    for (const f of ['import.json', 'manifest.json', 'profiles/airgap/config.yaml', 'deploy/backends/airgap/prometheus/prometheus.yml', 'scripts/replay.sh']) {
      expect(existsSync(join(kitDir, f)), f).toBe(true);
    }
    expect(readFileSync(join(kitDir, 'profiles/airgap/config.yaml'), 'utf8')).toContain('# stellaops.sealed: true');
    // The Collector step reads the profile where the import put it.
    const collector = blocks.find((b) => b.includes('"$OTELCOL_BIN"') && b.includes('KIT='))!;
    expect(collector).toContain('KIT=/opt/stellaops/offline-kit');
    expect(collector).toContain('"$KIT/profiles/airgap/config.yaml"');
  });
});

describe('the embedded steps of the install page, on a sealed service', () => {
  it('mint a token, send a span and read its trace back as written; the service says it is sealed', { timeout: 120_000 }, async () => {
    const svc = await startReceiver({ STELLA_SEALED: 'true' });
    try {
      const api = (svc.service.app.server.address() as AddressInfo).port;
      const text = read('docs/install-telemetry-stack.md');
      const embedded = text.slice(text.indexOf('\n## Embedded, on one machine\n'), text.indexOf('\n### Tokens\n'));
      const blocks = shellBlocks(embedded);
      // Step 3: the token, minted by the CLI from the service's development authority.
      const mint = blocks.find((b) => b.includes('stella auth token'))!.trim();
      const words = /\$\(npx stella ([^)]*)\)/.exec(mint)![1]!.replace('--data-dir .stella', `--data-dir ${svc.dataDir}`).split(/\s+/);
      let token = '';
      const cli = createProgram({ stdout: (t) => (token += t), stderr: () => undefined, env: {}, cwd: svc.dataDir });
      expect(await cli.run(words)).toBe(0);
      // Step 4: the addresses are this service's; the read is retried until the indexer has the span.
      const lines = blocks
        .find((b) => b.includes('/v1/traces'))!
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => l.replace('127.0.0.1:4318', `127.0.0.1:${svc.ports.http}`).replace('127.0.0.1:8080', `127.0.0.1:${api}`));
      const read_ = lines.pop()!;
      const script = `${lines.join('\n')}\nfor i in $(seq 1 40); do ${read_} && exit 0; sleep 0.25; done; exit 1\n`;
      // Not spawnSync: the service answers from this process.
      const r = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', env: { ...process.env, TOKEN: token.trim() }, timeout: 60_000 });
      expect(r.stdout.startsWith('{}')).toBe(true);
      expect(JSON.parse(r.stdout.slice(2))).toMatchObject({ span_count: 1, services: ['policy-engine'] });
      // The sealed-mode checklist's first item.
      const admin = await svc.token('acme', ['stella:obs:read#tenant/acme', 'stella:telemetry:admin#tenant/acme']);
      const headers = { authorization: `Bearer ${admin}` };
      expect((await svc.service.app.inject({ method: 'GET', url: '/telemetry/status', headers })).json()).toMatchObject({ sealed: true });
      expect((await svc.service.app.inject({ method: 'GET', url: '/telemetry/config/profile/default', headers })).json()).toMatchObject({ sealed: true });
    } finally {
      await svc.stop();
    }
  });
});
