#!/usr/bin/env node
// `npm run build` (and `npm ci`, through `prepare`): compiles telemetry-core, forensics,
// collector-config, the CLI and the service to JavaScript with declarations in each package's
// dist/ (TypeScript project references, incremental), then copies what the compiler does not:
// the service's SQL migrations.
// `node scripts/build.mjs packages/cli/tsconfig.build.json …` builds only those projects (and
// what they reference).
// Development and tests do not need it: they run the TypeScript sources (the `@stellaops/source`
// export condition); `npm start`, the installed `stella` and the packed tarballs run dist/.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const projects = process.argv.slice(2);
execFileSync(process.execPath, [tsc, '-b', ...(projects.length ? projects : ['tsconfig.build.json'])], { stdio: 'inherit', cwd: root });

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
