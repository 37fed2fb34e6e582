/** The last resort is explicit: a stray rejection is logged and the process serves on; an uncaught exception shuts down gracefully and exits 1. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/guarded-process.ts', import.meta.url));

describe('process guards', () => {
  it('log an unhandled rejection and keep running; shut down and exit 1 on an uncaught exception', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], { encoding: 'utf8', timeout: 30_000 });
    const lines = run.stdout.split('\n').filter(Boolean);
    const rejection = lines.find((l) => l.includes('"defect":"unhandled_rejection"'));
    expect(rejection, run.stdout + run.stderr).toBeDefined();
    expect(rejection).toContain('stray rejection');
    // The rejection came first and the process went on to its next timer.
    expect(lines.indexOf('ALIVE')).toBeGreaterThan(lines.indexOf(rejection!));
    const fatal = lines.findIndex((l) => l.includes('"defect":"uncaught_exception"'));
    expect(fatal).toBeGreaterThan(lines.indexOf('ALIVE'));
    expect(lines.indexOf('SHUTDOWN')).toBeGreaterThan(fatal);
    expect(run.status).toBe(1);
  });
});
