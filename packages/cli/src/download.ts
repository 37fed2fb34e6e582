/**
 * Where a download lands, settled before the service is asked for anything. Commands that make
 * the service commit something (a snapshot) or record an audited export (an archive, a
 * capture) and then write it locally reserve the destination first: a target that exists, or
 * a directory that cannot be written, is refused before any request (exit 2). The bytes go to a
 * private file beside the target, created exclusively at reservation, and are linked into place
 * only when complete — never over a file, never half-written. If the local write still fails
 * after the service committed (the target appeared meanwhile, the disk filled), the command
 * reports what was committed and how to fetch it again (`notWritten`), with exit 2.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, link, lstat, mkdir, open, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT, type CommandResult } from './output.js';
import { meter, type Progress } from './progress.js';

/** Linux pseudo filesystems (statfs magic numbers): what is written there is not kept as a file. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0xde5e81e4, 'efivarfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
]);

/**
 * Makes sure `dir` exists and can take new files, creating what is missing one level at a time;
 * fails at once, naming `target`, when it cannot. (Node's recursive mkdir never returns where
 * mkdir answers ENOENT under a directory that exists, as /proc does: it retries forever.) The
 * nearest existing ancestor must be a writable directory on a real filesystem.
 */
export async function ensureDirectory(dir: string, target: string): Promise<void> {
  const refuse = (why: string, cause?: unknown): CliError => new CliError('destination_unwritable', `cannot write ${target}: ${why}`, { cause });
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    // ENOTDIR: a file stands where a parent directory should; the walk up finds and names it.
    const info = await stat(existing).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? undefined : Promise.reject(refuse(error.message, error))));
    if (info) {
      if (!info.isDirectory()) throw refuse(`${existing} is not a directory`);
      break;
    }
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) throw refuse(`${existing} does not exist`);
    existing = parent;
  }
  if (process.platform === 'linux') {
    const fs = await statfs(existing).catch(() => undefined);
    const pseudo = fs ? PSEUDO_FILESYSTEMS.get(fs.type) : undefined;
    if (pseudo) throw refuse(`${existing} is on a ${pseudo} pseudo filesystem, where files cannot be kept`);
  }
  try {
    await access(existing, constants.W_OK);
  } catch (cause) {
    throw refuse(`${existing} is not writable (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, cause);
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw refuse(`cannot create ${level}: ${(cause as Error).message}`, cause);
    }
  }
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellArg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export class Destination {
  private constructor(
    readonly path: string,
    readonly temp: string,
    private handle: FileHandle | undefined,
  ) {}

  /** Refuses an existing target or an unwritable directory; creates the private file the bytes go to. */
  static async reserve(path: string): Promise<Destination> {
    const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      // Not there (or a parent is not a directory, which ensureDirectory names below).
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw new CliError('destination_unwritable', `cannot write ${path}: ${error.message} (nothing was asked of the service)`, { cause: error });
    });
    if (existing) throw new CliError('exists', `${path} already exists; not overwriting it (nothing was asked of the service)`);
    const temp = `${path}.partial-${randomBytes(6).toString('hex')}`;
    try {
      await ensureDirectory(dirname(path), path);
      return new Destination(path, temp, await open(temp, 'wx', 0o644));
    } catch (cause) {
      const why = cause instanceof CliError ? cause.message : `cannot write beside ${path}: ${(cause as Error).message}`;
      throw new CliError('destination_unwritable', `${why} (nothing was asked of the service)`, { cause });
    }
  }

  /** A stream into the private file (takes over its handle). */
  stream(): Writable {
    return createWriteStream(this.temp, { fd: this.take() });
  }

  /** Writes a whole web response body into the private file, counting its bytes on `progress`. */
  async writeResponse(body: ReadableStream<Uint8Array> | null, progress?: Progress): Promise<void> {
    if (!body) throw new Error('the answer has no body');
    try {
      if (progress) await pipeline(Readable.fromWeb(body as never), meter(progress), this.stream());
      else await pipeline(Readable.fromWeb(body as never), this.stream());
    } finally {
      // The bar's line ends either way, so what is printed next starts on a line of its own.
      progress?.finish();
    }
  }

  /** Writes bytes into the private file. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    const handle = this.take();
    this.handle = handle;
    await handle.writeFile(bytes);
  }

  /** Links the complete file into place; fails (and leaves the target alone) if it exists by now. */
  async commit(): Promise<void> {
    const handle = this.handle ?? (await open(this.temp, 'r'));
    this.handle = undefined;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(this.temp, this.path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('exists', `${this.path} appeared while downloading; not overwriting it`, { cause });
      throw new CliError('write_failed', `cannot write ${this.path}: ${(cause as Error).message}`, { cause });
    } finally {
      await rm(this.temp, { force: true });
    }
  }

  /** Removes the private file (nothing is left behind on any failure). */
  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await rm(this.temp, { force: true });
  }

  private take(): FileHandle {
    const handle = this.handle;
    if (!handle) throw new Error('the destination was already written');
    this.handle = undefined;
    return handle;
  }
}

/**
 * The result of a command whose service side succeeded (a bundle committed, an export
 * recorded) but whose local write did not: what was committed, why it is not on disk, and the
 * command that fetches it again. Exit 2 (the local side is the user's to fix).
 */
export function notWritten(traceId: string, payload: Record<string, unknown>, lines: string[], error: unknown, refetch: string): CommandResult {
  const e = error instanceof CliError ? error : new CliError('write_failed', (error as Error)?.message ?? String(error));
  return {
    exitCode: EXIT.usage,
    json: { ok: false, ...payload, error: { code: e.code, message: e.message }, refetch, trace_id: traceId },
    human: [...lines, `  NOT WRITTEN: ${e.message}`, `  fetch it again with: ${refetch}`, `trace_id ${traceId}`].join('\n'),
  };
}
