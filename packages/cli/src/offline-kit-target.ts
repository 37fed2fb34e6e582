/**
 * Writing a verified Offline Kit into a directory (OFF-2). Every path is checked again here,
 * whatever the archive reader already refused: relative, no `.` or `..` segment, inside the
 * target once resolved, and never through a symbolic link already in the target (a link there
 * would carry the write elsewhere). A file with the same bytes is left alone (importing the same
 * kit again changes nothing); a different one is refused, with nothing written at all, unless
 * `force`. Files are written beside their place and renamed into it, with their mode set
 * exactly: collector binaries and scripts 0755, everything else 0644.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { ensureDirectory } from './download.js';
import { KIT_COLLECTOR_DIR } from './offline-kit-archive.js';
import { CliError } from './output.js';

export type KitFileOutcome = 'written' | 'unchanged' | 'overwritten';

export interface KitTargetFile {
  /** Path inside the target, `/`-separated. */
  path: string;
  body: Buffer;
  mode: number;
}

/** The mode a kit file is written with: executables (collector binaries, scripts) 0755, the rest 0644. */
export function kitFileMode(path: string): number {
  return path.startsWith(`${KIT_COLLECTOR_DIR}/`) || /^scripts\/[^/]+\.sh$/.test(path) ? 0o755 : 0o644;
}

const unsafe = (message: string): CliError => new CliError('target_unsafe', `${message}; nothing was written`);

/** `target` with one trailing separator: what every path inside it starts with. */
const inside = (target: string): string => (target.endsWith(sep) ? target : `${target}${sep}`);

/** The absolute place of `path` inside `target`, refusing anything that could leave it. */
function placeOf(target: string, path: string): string {
  const segments = path.split('/');
  // eslint-disable-next-line no-control-regex
  if (path.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(path) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw unsafe(`kit path ${JSON.stringify(path)} is not a plain relative path`);
  }
  const place = resolve(target, ...segments);
  if (!place.startsWith(inside(target))) throw unsafe(`kit path ${JSON.stringify(path)} resolves outside ${target}`);
  return place;
}

/** The current bytes at `place` (undefined when there is nothing), refusing links and directories on the way. */
async function existing(target: string, place: string): Promise<Buffer | undefined> {
  // Each level below the target, then the file itself: lstat, so a link is seen, not followed.
  const levels: string[] = [];
  for (let p = place; p.startsWith(inside(target)); p = dirname(p)) levels.unshift(p);
  for (const [i, level] of levels.entries()) {
    const info = await lstat(level).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (!info) return undefined;
    if (info.isSymbolicLink()) throw unsafe(`${level} is a symbolic link; a kit is never written through a link`);
    const last = i === levels.length - 1;
    if (!last && !info.isDirectory()) throw unsafe(`${level} is not a directory`);
    if (last && !info.isFile()) throw unsafe(`${level} exists and is not a regular file`);
  }
  return readFile(place);
}

/**
 * Writes `files` into `target` (created if missing). Refuses — before writing anything — an
 * unsafe path, a link on the way, or (without `force`) an existing file with other bytes.
 */
export async function writeKitTarget(target: string, files: readonly KitTargetFile[], force: boolean): Promise<{ path: string; outcome: KitFileOutcome }[]> {
  await ensureDirectory(target, target);
  const plan: (KitTargetFile & { place: string; before: Buffer | undefined })[] = [];
  for (const f of files) {
    const place = placeOf(target, f.path);
    let before: Buffer | undefined;
    try {
      before = await existing(target, place);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError('destination_unwritable', `cannot read ${place}: ${(error as Error).message}`, { cause: error });
    }
    plan.push({ ...f, place, before });
  }
  const conflicts = plan.filter((p) => p.before !== undefined && !p.before.equals(p.body));
  if (conflicts.length > 0 && !force) {
    throw new CliError('target_differs', `${conflicts.map((c) => c.place).join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with different content; nothing was written`, {
      hint: 'import into a fresh --target, or pass --force to replace them with the kit’s files',
    });
  }
  const out: { path: string; outcome: KitFileOutcome }[] = [];
  for (const p of plan) {
    if (p.before?.equals(p.body)) {
      // Same bytes: left as they are, only the mode put right.
      if (((await lstat(p.place)).mode & 0o777) !== p.mode) await chmod(p.place, p.mode);
      out.push({ path: p.path, outcome: 'unchanged' });
      continue;
    }
    await writeAtomically(p.place, p.body, p.mode);
    out.push({ path: p.path, outcome: p.before === undefined ? 'written' : 'overwritten' });
  }
  return out;
}

/** Writes `body` to a private file beside `place` and renames it into place, with exactly `mode`. */
export async function writeAtomically(place: string, body: Buffer, mode: number): Promise<void> {
  const temp = `${place}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await ensureDirectory(dirname(place), place);
    await writeFile(temp, body, { flag: 'wx', mode });
    await chmod(temp, mode); // the umask may have taken bits off
    await rename(temp, place);
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof CliError) throw error;
    throw new CliError('destination_unwritable', `cannot write ${place}: ${(error as Error).message}`, { cause: error });
  }
}
