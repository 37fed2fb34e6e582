/**
 * Benchmark dispatcher: `npm run bench -- <name> [args]` runs bench/<name>.ts; with no name it
 * lists the harnesses. Every harness compares against a baseline in the same run and prints ratios.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const name = process.argv[2];
if (!name || name === '--help' || name === '-h') {
  console.log(`usage: npm run bench -- <name>\n\nharnesses: ${available.join(', ') || '(none)'}`);
  process.exit(name ? 0 : 2);
}
if (!available.includes(name)) {
  console.error(`bench: no harness named "${name}"; available: ${available.join(', ')}`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: (args: string[]) => Promise<void> };
await mod.default(process.argv.slice(3));
