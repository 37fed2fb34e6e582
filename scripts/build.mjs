#!/usr/bin/env node
// `npm run build` (and `npm ci`, through `prepare`): compiles telemetry-core, forensics,
// collector-config, the CLI and the service to JavaScript with declarations in each package's
// dist/ (TypeScript project references, incremental), then copies what the compiler does not:
// the service's SQL migrations; then builds the Console (packages/console) with Vite into its
// dist/, which the service serves at /console — skipped while that build is newer than every
// file it is made from.
// `node scripts/build.mjs packages/cli/tsconfig.build.json …` builds only those projects (and
// what they reference); `packages/console` among them builds the Console.
// Development and tests do not need it: they run the TypeScript sources (the `@stellaops/source`
// export condition); `npm start`, the installed `stella` and the packed tarballs run dist/.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const args = process.argv.slice(2);
const CONSOLE = 'packages/console';
const projects = args.filter((a) => a.replace(/\/$/, '') !== CONSOLE);
const buildConsole = args.length === 0 || projects.length < args.length;
if (args.length === 0 || projects.length > 0) {
  execFileSync(process.execPath, [tsc, '-b', ...(projects.length ? projects : ['tsconfig.build.json'])], { stdio: 'inherit', cwd: root });
}

const ASSETS = /\.sql$/;
function copyAssets(src, dist) {
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    const from = join(src, entry.name);
    if (entry.isDirectory()) copyAssets(from, join(dist, entry.name));
    else if (ASSETS.test(entry.name)) cpSync(from, join(dist, entry.name), { preserveTimestamps: true });
  }
}
if (existsSync(join(root, 'packages/server/dist'))) copyAssets(join(root, 'packages/server/src'), join(root, 'packages/server/dist'));
if (existsSync(join(root, 'packages/cli/dist/bin/stella.js'))) chmodSync(join(root, 'packages/cli/dist/bin/stella.js'), 0o755);

/** The newest modification time under `path` (a file or a directory), 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stat.mtimeMs);
}

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const consoleDir = join(root, CONSOLE);
if (buildConsole && existsSync(join(consoleDir, 'vite.config.ts'))) {
  const inputs = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newest(join(consoleDir, p)));
  const built = newest(join(consoleDir, 'dist', 'index.html'));
  if (built === 0 || Math.max(...inputs, newest(join(root, 'package-lock.json'))) > built) {
    const started = performance.now();
    const { build } = await import('vite');
    // Vite takes the build's mode from NODE_ENV: a development value left in the shell would ship React's development build.
    process.env.NODE_ENV = 'production';
    await build({ configFile: join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
    const assets = files(join(consoleDir, 'dist', 'assets')).filter((f) => /\.(js|css)$/.test(f));
    const bytes = assets.reduce((n, f) => n + statSync(f).size, 0);
    const gzipped = assets.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    const kb = (n) => `${Math.round(n / 1024)} kB`;
    console.log(`console: built ${CONSOLE}/dist in ${((performance.now() - started) / 1000).toFixed(1)} s (scripts and styles ${kb(bytes)}, ${kb(gzipped)} gzipped)`);
  }
}
