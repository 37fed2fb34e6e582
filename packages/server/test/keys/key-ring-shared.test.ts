/**
 * SCALE-1: replicas sharing one key directory act on one key ring — created once when they start
 * together, a rotation through one signs on the others within the refresh bound, and rotations
 * through two at once both land in the signed log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyManager } from '../../src/keys/key-manager.js';
import { FileSignerBackend } from '../../src/keys/signer-backend.js';
import { eventually } from '../helpers/external.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function replicas(n: number, refreshMs = 200): KeyManager[] {
  const dir = mkdtempSync(join(tmpdir(), 'stella-keys-'));
  dirs.push(dir);
  // Each replica has its own backend instance (its own cache) over the shared directory.
  return Array.from({ length: n }, () => new KeyManager({ dir, backend: new FileSignerBackend({ root: dir }), refreshMs }));
}

describe('a key ring shared by replicas', () => {
  it('is created once when replicas start together', async () => {
    const all = replicas(4);
    const keys = await Promise.all(all.map(async (m) => (await m.activeKey('acme')).signer.keyId));
    expect(new Set(keys).size).toBe(1);
  });

  it('signs with the rotated key on every replica within the refresh bound', async () => {
    const [a, b, c] = replicas(3);
    const before = (await b!.activeKey('acme')).signer.keyId;
    expect((await c!.activeKey('acme')).signer.keyId).toBe(before);
    const rotated = await a!.rotate({ kind: 'platform' });
    expect(rotated.previous_key_id).toBe(before);
    const started = performance.now();
    for (const m of [b!, c!]) await eventually(async () => ((await m.activeKey('acme')).signer.keyId === rotated.key_id ? true : undefined), 2000, 'the rotated key');
    expect(performance.now() - started).toBeLessThan(1000);
    const ring = (await b!.document('acme')).keyring;
    expect(ring.checkKey(rotated.key_id, new Date()).ok).toBe(true);
  });

  it('keeps both of two rotations made through two replicas at once', async () => {
    const [a, b] = replicas(2);
    const first = (await a!.activeKey('acme')).signer.keyId;
    await b!.activeKey('acme');
    const [ra, rb] = await Promise.all([a!.rotate({ kind: 'platform' }), b!.rotate({ kind: 'platform' })]);
    // One rotated the first key, the other the key the first rotation made.
    const chain = [ra, rb].sort((x, y) => (x.previous_key_id === first ? -1 : y.previous_key_id === first ? 1 : 0));
    expect(chain[0]!.previous_key_id).toBe(first);
    expect(chain[1]!.previous_key_id).toBe(chain[0]!.key_id);
    // Every replica reads the ring with both rotations once its cached copy is checked again.
    const ring = await eventually(async () => {
      const r = (await a!.document('acme')).keyring;
      return r.keys().length === 3 ? r : undefined;
    }, 2000, 'both rotations in the ring');
    expect(ring.keys().map((k) => k.keyId)).toEqual([first, chain[0]!.key_id, chain[1]!.key_id]);
    expect(ring.entries().filter((e) => e.op === 'add')).toHaveLength(3);
  });
});
