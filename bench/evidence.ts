/**
 * Evidence bundle build and verify throughput against plain SHA-256 of the same bytes.
 *
 * Writes a tree of mixed file sizes (1 GiB by default: a few large files, many mid-sized ones,
 * a long tail of 1-64 KiB ones) into a temp dir, then in one run, each phase repeated and the
 * best kept, for the whole set and, separately, for its small files alone (the per-file cost):
 *  - baseline: read every file and hash it with node:crypto sha256 (what `sha256sum` does, the
 *    floor any bundler pays; the in-memory hash rate is printed for reference);
 *  - build: buildEvidenceBundle → deterministic .tar (read once, hash once, write once, sign),
 *    once into a discarding stream (the bundler's own cost; the stream consumes its chunks, so
 *    the builder reuses its buffers) and once into a .tar file on disk;
 *  - verify: verifyBundle on that .tar (stream, hash, Merkle root, signatures).
 * Each phase is timed by the wall clock and by the CPU time of the process (user + system,
 * every thread): on a shared machine the wall clock measures the neighbours as much as the
 * code, the CPU time what the code costs. Targets: build ≥ 85 % and verify ≥ 80 % of the
 * baseline rate.
 *
 * Usage: npm run bench -- evidence [--size 1GiB] [--rounds 3]
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildEvidenceBundle, createKeySigner, generateSigningKeyPair, verifyBundle, type BundleFileInput, type Signer } from '@stellaops/forensics';

const TARGETS = { build: 0.85, verify: 0.8 };
const MiB = 1024 * 1024;

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(text.trim());
  if (!m) throw new Error(`bad --size ${text} (e.g. 256MiB, 1GiB)`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult: Record<string, number> = { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB, kb: 1e3, mb: 1e6, gb: 1e9 };
  return Math.floor(Number(m[1]) * mult[unit]!);
}

/** Mixed sizes: 40 % in 4 large files, 40 % in 16 KiB..16 MiB files, 20 % in 1..64 KiB files. */
function plan(total: number): number[] {
  const sizes: number[] = [];
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const fill = (budget: number, min: number, max: number): void => {
    let left = budget;
    while (left > 0) {
      const s = Math.min(left, Math.floor(min + rand() * (max - min)));
      sizes.push(s);
      left -= s;
    }
  };
  const large = Math.floor(total * 0.4);
  for (let i = 0; i < 4; i++) sizes.push(Math.floor(large / 4));
  fill(Math.floor(total * 0.4), 16 * 1024, 16 * MiB);
  fill(total - sizes.reduce((a, b) => a + b, 0), 1024, 64 * 1024);
  return sizes;
}

/** Files up to this size make the small-file case. */
const SMALL = 64 * 1024;

async function writeInputs(dir: string, sizes: number[]): Promise<BundleFileInput[]> {
  const buf = Buffer.alloc(4 * MiB);
  const files: BundleFileInput[] = [];
  for (const [i, size] of sizes.entries()) {
    const sub = join(dir, `part-${String(i % 16).padStart(2, '0')}`);
    await mkdir(sub, { recursive: true });
    const path = join(sub, `file-${String(i).padStart(5, '0')}.bin`);
    const fh = await open(path, 'w');
    for (let left = size; left > 0; ) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n);
      left -= n;
    }
    await fh.close();
    files.push({ path: `part-${String(i % 16).padStart(2, '0')}/file-${String(i).padStart(5, '0')}.bin`, source: path });
  }
  return files;
}

/** The baseline: `sha256sum` in plain node:crypto — each file read into one reused buffer and hashed. */
async function rawSha256(files: BundleFileInput[]): Promise<void> {
  const buf = Buffer.allocUnsafe(MiB);
  for (const f of files) {
    const hash = createHash('sha256');
    const fd = openSync(f.source as string, 'r');
    try {
      for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    hash.digest();
  }
}

/** For reference only: hashing bytes already in memory (no file access at all). */
async function memorySha256(total: number): Promise<void> {
  const buf = Buffer.alloc(MiB, 7);
  const hash = createHash('sha256');
  for (let left = total; left > 0; left -= buf.length) hash.update(left >= buf.length ? buf : buf.subarray(0, left));
  hash.digest();
}

interface Timing {
  /** Best wall-clock seconds. */
  wall: number;
  /** Best CPU seconds of the process (user + system, all threads). */
  cpu: number;
}

async function best(rounds: number, fn: () => Promise<void>, between?: () => Promise<void>): Promise<Timing> {
  const t: Timing = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < rounds; r++) {
    if (between) await between();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    t.wall = Math.min(t.wall, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    t.cpu = Math.min(t.cpu, (c.user + c.system) / 1e6);
  }
  return t;
}

const discard = (): Writable => new Writable({ write: (_c, _e, cb) => cb(), writev: (_c, cb) => cb() });

/** Measures one set of files: the baseline, both builds and the verification; prints the table. */
async function measure(title: string, files: BundleFileInput[], total: number, rounds: number, signer: Signer, publicKeyPem: string, tar: string): Promise<void> {
  const bundle = { kind: 'export' as const, tenant: 'bench', caseId: 'bench', resourceId: 'bench', createdAt: '2025-01-01T00:00:00Z', signer, files };
  await rawSha256(files); // warm the page cache so every phase reads from memory alike
  const raw = await best(rounds, () => rawSha256(files));
  const memory = await best(rounds, () => memorySha256(total));
  const buildStream = await best(rounds, async () => {
    await buildEvidenceBundle({ ...bundle, output: { tarStream: discard(), consumesChunks: true } });
  });
  const build = await best(
    rounds,
    async () => {
      await buildEvidenceBundle({ ...bundle, output: { tarFile: tar } });
    },
    () => rm(tar, { force: true }),
  );
  let ok = true;
  const verify = await best(rounds, async () => {
    ok = (await verifyBundle(tar, { publicKey: publicKeyPem })).ok && ok;
  });
  await rm(tar, { force: true });
  if (!ok) throw new Error('bench bundle failed to verify');

  const rate = (s: number): number => total / MiB / s;
  const rows: [string, Timing, number | undefined][] = [
    ['sha256 in memory (info)', memory, undefined],
    ['raw sha256 (read + hash)', raw, undefined],
    ['build (stream, sign)', buildStream, TARGETS.build],
    ['build (.tar file, sign)', build, TARGETS.build],
    ['verify (.tar)', verify, TARGETS.verify],
  ];
  console.log(`\n${title}: ${(total / MiB).toFixed(0)} MiB in ${files.length} files; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  console.log(`${'phase'.padEnd(26)} ${'wall s'.padStart(7)} ${'MiB/s'.padStart(6)} ${'ratio'.padStart(7)}  ${'CPU s'.padStart(6)} ${'ratio'.padStart(7)}  target`);
  for (const [name, t, target] of rows) {
    const wallRatio = raw.wall / t.wall;
    const cpuRatio = raw.cpu / t.cpu;
    const verdict = target === undefined ? '' : `≥ ${target * 100}%: wall ${wallRatio >= target ? 'PASS' : 'FAIL'}, CPU ${cpuRatio >= target ? 'PASS' : 'FAIL'}`;
    console.log(
      `${name.padEnd(26)} ${t.wall.toFixed(3).padStart(7)} ${rate(t.wall).toFixed(0).padStart(6)} ${(wallRatio * 100).toFixed(1).padStart(6)}%  ${t.cpu.toFixed(3).padStart(6)} ${(cpuRatio * 100).toFixed(1).padStart(6)}%  ${verdict}`.trimEnd(),
    );
  }
}

export default async function run(args: string[]): Promise<void> {
  const total = parseSize(flag(args, 'size', '1GiB'));
  const rounds = Number(flag(args, 'rounds', '3'));
  const work = await mkdtemp(join(tmpdir(), 'stella-bench-evidence-'));
  try {
    const sizes = plan(total);
    console.log(`evidence bench: ${(total / MiB).toFixed(0)} MiB in ${sizes.length} files (largest ${(Math.max(...sizes) / MiB).toFixed(1)} MiB), best of ${rounds}`);
    const files = await writeInputs(join(work, 'in'), sizes);
    const pair = generateSigningKeyPair();
    const signer = createKeySigner(pair.privateKeyPem);
    const tar = join(work, 'bundle.tar');
    await measure('mixed sizes', files, total, rounds, signer, pair.publicKeyPem, tar);
    const small = files.filter((_, i) => sizes[i]! <= SMALL);
    const smallTotal = sizes.filter((s) => s <= SMALL).reduce((a, b) => a + b, 0);
    await measure(`small files only (≤ ${SMALL / 1024} KiB, the same files)`, small, smallTotal, rounds, signer, pair.publicKeyPem, tar);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
