/**
 * One place for how every `stella` command reports: `--json` prints a single JSON document on
 * stdout (keys in snake_case), otherwise readable text. Commands return a CommandResult or
 * throw CliError — they never print or exit themselves, so every command group behaves the
 * same way for free.
 *
 * Exit codes, the same for every command:
 * - 0: done; what was verified is valid.
 * - 1: verification failed — a bundle, attestation, capture or chain of custody does not verify.
 * - 2: anything else that stopped the command: usage (bad or missing flags), input (an
 *   unreadable file, a private key where a public one belongs, a destination that exists or
 *   cannot be written) or the service (an error answer, quoting its `error_code` and message;
 *   an unreachable server; a download that broke off).
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit codes as `stella --help` lists them. */
export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  done; what was verified is valid',
  '  1  verification failed (a bundle, attestation, capture or chain of custody does not verify)',
  '  2  usage, input or service error (bad flags, unreadable or unwritable files, an error',
  "     answer from the service — its error_code and message are printed — or no answer)",
].join('\n');

/** Where output goes; tests capture it. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Environment (STELLA_TENANT, SOURCE_DATE_EPOCH, ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory relative paths resolve against. */
  readonly cwd: string;
  /** Whether stderr is a terminal: progress bars are drawn only then. Default false. */
  readonly stderrIsTTY?: boolean;
  /** Width of that terminal in columns, when known. */
  readonly stderrColumns?: number;
  /** Whether stdout is a terminal: live views redraw in place only then. Default false. */
  readonly stdoutIsTTY?: boolean;
  /** Aborted when the user interrupts a command that runs until interrupted (`stella obs top`). Default: Ctrl-C (SIGINT) of this process while such a command runs. */
  readonly interrupt?: AbortSignal;
}

export interface CommandResult {
  readonly exitCode: ExitCode;
  /** The `--json` document. */
  readonly json: unknown;
  /** Human-readable lines. */
  readonly human: string;
}

/** A failure the user can fix; `code` is stable and shown in `--json` output. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** What to do about it, when there is something concrete to say (printed on its own line). */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { exitCode?: ExitCode; cause?: unknown; hint?: string } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.usage;
    this.hint = options.hint;
  }
}

export function emit(io: CliIO, json: boolean, result: CommandResult): ExitCode {
  if (json) io.stdout(`${JSON.stringify(result.json, null, 2)}\n`);
  else if (result.human) io.stdout(result.human.endsWith('\n') ? result.human : `${result.human}\n`);
  return result.exitCode;
}

export function emitError(io: CliIO, json: boolean, err: CliError): ExitCode {
  if (json) {
    io.stdout(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } }, null, 2)}\n`);
  } else io.stderr(`stella: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
  return err.exitCode;
}

/** Any failure as a CliError: library errors keep their stable codes; every one exits 2 (never 1, which is a verdict). */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err as { code?: unknown; message?: unknown };
  if (e && typeof e.code === 'string' && typeof e.message === 'string') return new CliError(e.code, e.message, { cause: err });
  return new CliError('internal', `unexpected failure: ${String((err as Error)?.message ?? err)}`, { cause: err });
}
