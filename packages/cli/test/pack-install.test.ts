/**
 * CORE-11: telemetry-core, forensics and the CLI install from their packed tarballs into an empty
 * Node 20 project and run there with plain Node — no TypeScript sources, no tsx, no repository.
 * Builds (incrementally) and packs the three packages, installs the tarballs (their third-party
 * dependencies come from npm's cache, else the registry), then uses each one as a consumer would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['@stellaops/telemetry-core', '@stellaops/forensics', '@stellaops/collector-config', '@stellaops/cli'];
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

let dir: string;
let app: string;
let packed: { name: string; filename: string; files: { path: string }[] }[];

/** The environment of a stranger's shell: no npm lifecycle variables, no source condition. */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD') env[k] = v;
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], cwd: string, timeout = 60_000): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { cwd, env: consumerEnv(), timeout, maxBuffer: 16 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function node(script: string): Promise<Run> {
  const file = join(app, `script-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, script);
  return run(process.execPath, [file], app);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-pack-'));
  app = join(dir, 'app');
  await mkdir(app);
  // dist/ is built by `npm ci` (prepare); this brings it up to date with the sources (a no-op when it is).
  const projects = ['telemetry-core', 'cli'].map((p) => join('packages', p, 'tsconfig.build.json')); // the CLI's references forensics and collector-config
  const build = await run(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs'), ...projects], REPO_ROOT, 120_000);
  expect(build.code, build.stdout + build.stderr).toBe(0);
  const pack = await run(NPM, ['pack', '--json', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', p])], REPO_ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  packed = JSON.parse(pack.stdout) as typeof packed;
  await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  const install = await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', ...packed.map((p) => join(dir, p.filename))], app, 120_000);
  expect(install.code, install.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('packed tarballs in an empty Node project', () => {
  it('ship compiled JavaScript with declarations, and no TypeScript sources', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...PACKAGES].sort());
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      expect(paths, p.name).toContain('dist/index.js');
      expect(paths, p.name).toContain('dist/index.d.ts');
      expect(paths.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), p.name).toEqual([]);
      expect(paths.filter((f) => f.startsWith('src/') || f.includes('tsbuildinfo')), p.name).toEqual([]);
    }
    expect(existsSync(join(app, 'node_modules', 'tsx')), 'tsx must not be installed').toBe(false);
    expect(existsSync(join(app, 'node_modules', 'typescript')), 'typescript must not be installed').toBe(false);
  });

  it('@stellaops/telemetry-core: plain Node imports it, its logger writes a line and scrubs the secrets in it', async () => {
    const r = await node(`
      import { Writable } from 'node:stream';
      const core = await import('@stellaops/telemetry-core');
      let out = '';
      const destination = new Writable({ write(chunk, _e, cb) { out += chunk; cb(); } });
      const logger = core.createLogger({ service: 'consumer', destination });
      logger.info({ details: { password: 'hunter2-very-secret' } }, 'login with token=sk_live_0123456789abcdef');
      await new Promise((resolve) => setImmediate(resolve));
      process.stdout.write(JSON.stringify({ line: JSON.parse(out), text: core.scrubText('password=hunter2-very-secret') }));
    `);
    expect(r.code, r.stderr).toBe(0);
    const { line, text } = JSON.parse(r.stdout) as { line: Record<string, unknown>; text: string };
    expect(line).toMatchObject({ level: 'info', service: 'consumer' });
    expect(JSON.stringify(line)).toContain('[REDACTED');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('sk_live_0123456789abcdef');
    expect(text).toContain('[REDACTED');
  });

  it('@stellaops/forensics: builds and verifies a signed bundle; the installed stella verifies it too', async () => {
    const r = await node(`
      import { writeFile } from 'node:fs/promises';
      import { buildEvidenceBundle, createKeySigner, generateSigningKeyPair, verifyBundle } from '@stellaops/forensics';
      const pair = generateSigningKeyPair();
      await writeFile('signing.pub.pem', pair.publicKeyPem);
      await buildEvidenceBundle({
        kind: 'evaluation', tenant: 'acme', caseId: 'case-1', resourceId: 'eval-1', createdAt: '2026-01-01T00:00:00Z',
        signer: createKeySigner(pair.privateKeyPem),
        files: [{ path: 'decision.json', source: new TextEncoder().encode('{"result":"pass"}\\n') }],
        output: { tarFile: 'bundle.tar' },
      });
      const v = await verifyBundle('bundle.tar', { publicKey: pair.publicKeyPem });
      process.stdout.write(JSON.stringify({ ok: v.ok, failures: v.failures }));
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, failures: [] });

    const verified = await run(NPX, ['--offline', 'stella', 'forensic', 'verify', 'bundle.tar', '--key', 'signing.pub.pem', '--json'], app);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });

    const bytes = await readFile(join(app, 'bundle.tar'));
    const at = bytes.indexOf('{"result":"pass"}');
    bytes[at + 11] = 'f'.charCodeAt(0);
    await writeFile(join(app, 'tampered.tar'), bytes);
    const refused = await run(NPX, ['--offline', 'stella', 'forensic', 'verify', 'tampered.tar', '--key', 'signing.pub.pem', '--json'], app);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false });
  });

  it('@stellaops/cli: `npx stella --help` runs the installed bin', async () => {
    // --offline: were the bin missing, npx would fail here rather than ask the registry for a `stella`.
    expect(existsSync(join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'stella.cmd' : 'stella'))).toBe(true);
    const r = await run(NPX, ['--offline', 'stella', '--help'], app);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: stella');
    expect(r.stdout).toContain('forensic');
  });

  it('declarations type-check a TypeScript consumer (NodeNext resolution of the exports maps)', async () => {
    await writeFile(
      join(app, 'consumer.ts'),
      [
        "import { createLogger, scrubText, type Logger } from '@stellaops/telemetry-core';",
        "import { verifyBundle, type BundleVerification } from '@stellaops/forensics';",
        "import { createProgram, EXIT } from '@stellaops/cli';",
        "const logger: Logger = createLogger({ service: 'consumer' });",
        "const scrubbed: string = scrubText('x');",
        "const verification: Promise<BundleVerification> = verifyBundle('bundle.tar', { publicKey: '' });",
        "const code: number = EXIT.ok;",
        "export { logger, scrubbed, verification, code, createProgram };",
        '',
      ].join('\n'),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', join(REPO_ROOT, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'],
      app,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe("the README's install steps", () => {
  it('run as written: pack, install into a new project, stella --help, the logger scrubs', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Installing the libraries and the CLI'));
    const block = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1];
    expect(block, 'the install section has a sh block').toBeDefined();
    // mktemp -d in the block creates its directory under TMPDIR: here, this test's own directory.
    const tmp = join(dir, 'readme-tmp');
    await mkdir(tmp);
    let result: Run;
    try {
      const { stdout, stderr } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', block!], { cwd: REPO_ROOT, env: { ...consumerEnv(), TMPDIR: tmp }, timeout: 240_000, maxBuffer: 16 * 2 ** 20 });
      result = { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      result = { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Usage: stella/);
    expect(result.stdout).toMatch(/Exit codes:/);
    const logLine = result.stdout.split('\n').find((l) => l.includes('"msg":"hello"'));
    expect(logLine).toBeDefined();
    expect(JSON.parse(logLine!)).toMatchObject({ service: 'demo', password: expect.stringMatching(/^\[REDACTED/) });
  }, 300_000);
});
