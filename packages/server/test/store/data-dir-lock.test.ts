/**
 * The data-dir lock under real contention: two processes started together on one data dir —
 * with no lock, or with the lock of a dead process present — and exactly one of them runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock } from '../../src/store/data-dir-lock.js';

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ROUNDS = 20;
const root = mkdtempSync(join(tmpdir(), 'stella-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function nextLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl === -1) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      resolve(buffered.slice(0, nl));
    };
    const onExit = (code: number | null): void => reject(new Error(`lock child exited with ${code} before answering`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts `n` processes, lets them all try the lock at once, returns what each one got. */
async function race(lockPath: string, n = 2): Promise<string[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', CHILD, lockPath], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  try {
    await Promise.all(children.map(async (c) => expect(await nextLine(c)).toBe('ready')));
    const answers = children.map((c) => nextLine(c));
    for (const c of children) c.stdin.write('go\n');
    return await Promise.all(answers);
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.stdin.end();
          }),
      ),
    );
  }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('data-dir lock', () => {
  it(`two processes started together: exactly one acquires (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(root, 'fresh-'));
      const answers = await race(join(dir, 'db.lock'));
      expect(answers.sort(), `round ${round}`).toEqual(['acquired', 'locked store.locked']);
    }
  }, 180_000);

  it(`two processes and a dead process's lock: exactly one takes it over (${ROUNDS} rounds)`, async () => {
    const pid = await deadPid();
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(root, 'stale-'));
      const lockPath = join(dir, 'db.lock');
      writeFileSync(lockPath, JSON.stringify({ pid, host: hostname(), since: new Date(0).toISOString() }));
      const answers = await race(lockPath);
      expect(answers.sort(), `round ${round}`).toEqual(['acquired', 'locked store.locked']);
      // Nothing is left behind but the lock of the process that ran (released on exit).
      expect(readdirSync(dir)).toEqual([]);
    }
  }, 180_000);

  it('in one process: a second acquire fails until the first is released; a foreign or unreadable lock is never taken', async () => {
    const dir = mkdtempSync(join(root, 'local-'));
    const lockPath = join(dir, 'db.lock');
    const first = acquireDataDirLock(lockPath);
    expect(() => acquireDataDirLock(lockPath)).toThrow(expect.objectContaining({ code: 'store.locked' }));
    first.release();
    first.release();
    const second = acquireDataDirLock(lockPath);
    second.release();
    expect(readdirSync(dir)).toEqual([]);

    writeFileSync(lockPath, JSON.stringify({ pid: await deadPid(), host: `not-${hostname()}` }));
    expect(() => acquireDataDirLock(lockPath)).toThrow(expect.objectContaining({ code: 'store.locked' }));
    writeFileSync(lockPath, '');
    expect(() => acquireDataDirLock(lockPath)).toThrow(expect.objectContaining({ code: 'store.locked' }));
    expect(readdirSync(dir)).toEqual(['db.lock']);
  });

  it('a takeover marker left by a process that died inside the takeover is passed over', async () => {
    const dir = mkdtempSync(join(root, 'marker-'));
    const lockPath = join(dir, 'db.lock');
    const stale = JSON.stringify({ pid: await deadPid(), host: hostname() });
    writeFileSync(lockPath, stale);
    const { createHash } = await import('node:crypto');
    const id = createHash('sha256').update(stale).digest('hex').slice(0, 16);
    writeFileSync(`${lockPath}.takeover-${id}-1`, JSON.stringify({ pid: await deadPid(), host: hostname() }));
    const lock = acquireDataDirLock(lockPath);
    lock.release();
    expect(readdirSync(dir)).toEqual([`db.lock.takeover-${id}-1`]);
  });
});
