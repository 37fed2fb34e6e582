/** The demo's pointer to the Console: its URL, and a command that mints a token the Console signs in with — run here as printed. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DevAuthority } from '@stellaops/server';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_USER_SCOPES, consoleLines } from '../src/demo/summary.js';

const STELLA = fileURLToPath(new URL('../../cli/bin/stella.js', import.meta.url));
const parent = mkdtempSync(join(tmpdir(), 'stella-demo-summary-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('the Console lines of the demo summary', () => {
  it("print the Console's URL and a command that mints the Console user's token for each demo tenant, even from a data dir with a space and a quote", async () => {
    const serviceDir = join(parent, "demo data's dir", 'service');
    mkdirSync(serviceDir, { recursive: true });
    await DevAuthority.open(serviceDir);
    const [url, command] = consoleLines('http://127.0.0.1:8080', serviceDir, ['acme', 'globex', 'acme']);
    expect(url).toBe('  console   http://127.0.0.1:8080/console  (sign in with the token this prints:)');
    expect(command).toMatch(/^ {12}npx stella auth token --data-dir '.*' --ttl 8h --scope stella:obs:read#tenant\/acme .* stella:attest:read#tenant\/globex stella:obs:read$/);
    const printed = command!.trim().replace(/^npx stella /, `"${process.execPath}" "${STELLA}" `);
    const token = await new Promise<string>((resolve, reject) =>
      execFile('/bin/sh', ['-c', printed], { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout.trim()))),
    );
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { scope: string; exp: number; iat: number };
    const granted = claims.scope.split(' ');
    for (const tenant of ['acme', 'globex']) for (const base of CONSOLE_USER_SCOPES) expect(granted).toContain(`${base}#tenant/${tenant}`);
    // Platform-wide observability reads: the operator's view of the hub.
    expect(granted).toContain('stella:obs:read');
    expect(granted).toHaveLength(CONSOLE_USER_SCOPES.length * 2 + 1);
    expect(claims.exp - claims.iat).toBe(8 * 3600);
  }, 60_000);
});
