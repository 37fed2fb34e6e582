/**
 * Write-once under crashes (EVI-1): a real child process is SIGKILLed in the middle of a bundle
 * commit; no partial bundle is ever visible (object layout or API), and the next start settles
 * the interrupted commit — rolled back when the objects were not all in place, recorded (after
 * verifying) when they were.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_SCOPES, startForensicsService, type ForensicsTestService } from './forensics-service.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

function runChild(dataDir: string, point: 'staging' | 'committed'): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, point], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function bundleDirs(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, 'evidence', 'tenants', 'acme', 'evidence', 'case-crash')).catch(() => []);
}

describe('a process killed during a bundle commit', () => {
  const dirs: string[] = [];
  let ts: ForensicsTestService | undefined;

  afterEach(async () => {
    await ts?.stop(true);
    ts = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  for (const point of ['staging', 'committed'] as const) {
    // Two service starts and a child process: generous under a loaded CI machine.
    it(`leaves no visible partial bundle and restarts consistently (killed ${point === 'staging' ? 'while writing objects' : 'before recording'})`, { timeout: 180_000 }, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'stella-crash-'));
      dirs.push(dataDir);
      const child = await runChild(dataDir, point);
      expect(child.stdout).toContain('READY');
      expect(child.stdout).not.toContain('NOT_KILLED');
      expect(child.signal).toBe('SIGKILL');

      if (point === 'staging') {
        // The kill left half-written objects in staging only; nothing under the bundle layout.
        expect(await bundleDirs(dataDir)).toEqual([]);
        expect((await readdir(join(dataDir, 'evidence', '.staging'))).length).toBe(1);
      } else {
        expect((await bundleDirs(dataDir)).length).toBe(1);
      }

      ts = await startForensicsService({ dataDir });
      const report = await ts.evidence.recovery!;
      const token = await ts.token('acme', ALL_SCOPES);
      const list = await ts.service.app.inject({ method: 'GET', url: '/evidence?case_id=case-crash', headers: { authorization: `Bearer ${token}` } });
      const bundles = list.json<{ bundles: { bundle_id: string; labels: Record<string, unknown> }[] }>().bundles;
      const journal = await ts.service.store.tenantTransaction('acme', (tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM evidence_commits'));
      expect(journal.rows[0]!.n).toBe(0);
      expect(await readdir(join(dataDir, 'evidence', '.staging'))).toEqual([]);

      if (point === 'staging') {
        expect(report).toMatchObject({ recorded: 0, removed: 1, staging: 1 });
        expect(bundles).toEqual([]);
        expect(await bundleDirs(dataDir)).toEqual([]);
      } else {
        // Every object was in place and verifies: the bundle is recorded, not lost.
        expect(report).toMatchObject({ recorded: 1, removed: 0 });
        expect(bundles).toHaveLength(1);
        expect(bundles[0]!.labels).toMatchObject({ recovered: true });
        const read = await ts.service.app.inject({ method: 'GET', url: `/evidence/${bundles[0]!.bundle_id}`, headers: { authorization: `Bearer ${token}` } });
        expect(read.json()).toMatchObject({ verification: { ok: true } });
      }

      // The service works on: a new snapshot of the same resource commits and verifies.
      const again = await ts.service.app.inject({
        method: 'POST',
        url: '/evidence/snapshot',
        headers: { authorization: `Bearer ${token}` },
        payload: { kind: 'evaluation', resource_id: 'eval-crash', case_id: 'case-crash' },
      });
      expect(again.statusCode).toBe(201);
      expect((await bundleDirs(dataDir)).length).toBe(point === 'staging' ? 1 : 2);
    });
  }
});
