import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A scratch directory removed by `cleanup`. */
export async function scratch(prefix = 'stella-forensics-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random bytes (xorshift), so fixtures are reproducible without being constant. */
export function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Small evidence inputs: an empty file, a one-byte file, text, a file straddling a tar block, nested paths. */
export const SMALL_FILES: Record<string, Buffer> = {
  'empty.txt': Buffer.alloc(0),
  'one.bin': Buffer.from([0x2a]),
  'sbom/cyclonedx.json': Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}\n'),
  'trace/decision.json': bytes(600, 7),
};

export async function writeTree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, ...path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}
