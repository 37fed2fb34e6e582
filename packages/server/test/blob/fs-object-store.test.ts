/** EVI-1 file-system backend: write-once commits, prefix containment, legal hold and retention on deletion. */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobError } from '../../src/blob/blob-error.js';
import { FsObjectStore, STALE_STAGING_MS } from '../../src/blob/fs-object-store.js';
import { attestationPrefix, evidencePrefix } from '../../src/blob/object-keys.js';

const NOW = new Date('2025-03-01T00:00:00Z');
const bytes = (s: string) => Buffer.from(s, 'utf8');

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(BlobError);
    return (error as BlobError).code;
  }
}

describe('FsObjectStore', () => {
  let root: string;
  let store: FsObjectStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'stella-blob-'));
    store = new FsObjectStore({ root });
  });
  afterEach(async () => {
    // Committed files are read-only; make them removable for the clean-up.
    await chmod(root, 0o755).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('commits under the tenant layout and never replaces a committed prefix', async () => {
    const prefix = evidencePrefix('acme', 'case-1', 'b1');
    expect(prefix).toBe('tenants/acme/evidence/case-1/b1/');
    await store.commit(prefix, [{ path: 'manifest.json', body: bytes('{"v":1}') }, { path: 'files/a/b.txt', body: bytes('hello') }], {});
    expect((await store.list(prefix)).map((o) => o.key)).toEqual([`${prefix}files/a/b.txt`, `${prefix}manifest.json`]);
    expect(await code(store.commit(prefix, [{ path: 'manifest.json', body: bytes('{"v":2}') }], {}))).toBe('blob.exists');
    expect(await code(store.commit(prefix, [{ path: 'other.json', body: bytes('{}') }], {}))).toBe('blob.exists');
    expect((await store.read(`${prefix}manifest.json`)).toString()).toBe('{"v":1}');
    // Committed objects are read-only on disk too.
    expect((await stat(join(root, prefix, 'manifest.json'))).mode & 0o222).toBe(0);
    expect(await readdir(join(root, '.staging'))).toEqual([]);
  });

  it('refuses ids and keys that would leave the tenant prefix', () => {
    for (const [tenant, c, b] of [
      ['acme', '..', 'b'],
      ['acme', 'case', '../../other'],
      ['../x', 'case', 'b'],
      ['acme', 'a/b', 'c'],
      ['acme', '.hidden', 'c'],
    ]) {
      expect(() => evidencePrefix(tenant!, c!, b!)).toThrow(BlobError);
    }
    expect(() => attestationPrefix('acme', 'sub/../x', 'id')).toThrow(BlobError);
  });

  it('refuses unsafe keys and paths at the backend as well', async () => {
    expect(await code(store.commit('tenants/acme/../other/', [{ path: 'x', body: bytes('x') }], {}))).toBe('blob.key_invalid');
    expect(await code(store.commit('/etc/', [{ path: 'x', body: bytes('x') }], {}))).toBe('blob.key_invalid');
    expect(await code(store.commit('tenants/acme/evidence/c/b/', [{ path: '../escape', body: bytes('x') }], {}))).toBe('blob.key_invalid');
    expect(await code(store.read('tenants/acme/../../etc/passwd'))).toBe('blob.key_invalid');
    expect(await code(store.read('tenants/acme/evidence/none'))).toBe('blob.not_found');
  });

  it('refuses deletion under legal hold and before retain-until, and allows it after', async () => {
    const prefix = evidencePrefix('acme', 'case-1', 'b2');
    await store.commit(prefix, [{ path: 'manifest.json', body: bytes('{}') }], { retainUntil: new Date(NOW.getTime() + 1000) });
    expect(await code(store.deletePrefix(prefix, NOW))).toBe('blob.locked');
    const later = new Date(NOW.getTime() + 2000);
    await store.setLegalHold(prefix, true);
    expect(await store.lockState(prefix)).toMatchObject({ legalHold: true });
    expect(await code(store.deletePrefix(prefix, later))).toBe('blob.locked');
    await store.setLegalHold(prefix, false);
    expect(await store.deletePrefix(prefix, later)).toBe(1);
    expect(await store.exists(prefix)).toBe(false);
  });

  it('only extends retention, never shortens it', async () => {
    const prefix = evidencePrefix('acme', 'case-1', 'b3');
    await store.commit(prefix, [{ path: 'manifest.json', body: bytes('{}') }], { retainUntil: new Date('2026-01-01T00:00:00Z') });
    await store.extendRetention(prefix, new Date('2025-06-01T00:00:00Z'));
    expect((await store.lockState(prefix)).retainUntil?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    await store.extendRetention(prefix, new Date('2027-01-01T00:00:00Z'));
    expect((await store.lockState(prefix)).retainUntil?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    const lock = JSON.parse(await readFile(join(root, '.object-lock', 'tenants', 'acme', 'evidence', 'case-1', 'b3', 'lock.json'), 'utf8')) as { mode: string };
    expect(lock.mode).toBe('COMPLIANCE');
  });

  it('recover() sweeps staging left by an interrupted commit', async () => {
    await store.recover();
    const staging = join(root, '.staging', 'interrupted');
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'manifest.json'), 'partial');
    expect(await store.recover()).toEqual({ removedStaging: 1 });
    expect(await readdir(join(root, '.staging'))).toEqual([]);
  });

  it("recover() leaves the staging of a live process (another replica's commit in progress) and sweeps a dead or stale one's", async () => {
    await store.recover();
    const now = Date.now();
    const host = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63);
    // A process that has exited: its pid is free (until reused, when its staging waits to be stale).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const names = {
      live: `${now.toString(36)}.${host}.${process.ppid}.00aa`,
      dead: `${now.toString(36)}.${host}.${dead.stdout}.00bb`,
      otherHost: `${now.toString(36)}.elsewhere-host.${process.ppid}.00cc`,
      stale: `${(now - STALE_STAGING_MS - 60_000).toString(36)}.${host}.${process.ppid}.00dd`,
    };
    for (const name of Object.values(names)) await mkdir(join(root, '.staging', name), { recursive: true });
    expect(await store.recover()).toEqual({ removedStaging: 2 });
    expect((await readdir(join(root, '.staging'))).sort()).toEqual([names.live, names.otherHost].sort());
    for (const name of [names.live, names.otherHost]) await rm(join(root, '.staging', name), { recursive: true });
  });
});
