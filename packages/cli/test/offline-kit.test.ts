/**
 * OFF-1/OFF-2: `stella offline-kit build` gives byte-identical archives for the same input, with
 * every profile signed, the deployment files and a signed manifest; `verify` accepts it with the
 * public key or a key ring and names each failing file of an altered kit.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTarPaths, END_OF_ARCHIVE, tarHeader, tarPadding } from '@stellaops/forensics';
import { createProgram } from '../src/index.js';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy');
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

/** The entries of a kit, in order. */
function entries(gz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(gz);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const h = tar.subarray(at, at + 512);
    const field = (from: number, len: number): string => h.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12), 8);
    const prefix = field(345, 155);
    out.set(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100), tar.subarray(at + 512, at + 512 + size));
    at += 512 + size + tarPadding(size);
  }
  return out;
}

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
});
