/**
 * One place for how every `stella` command reports: `--json` prints a single JSON document on
 * stdout, otherwise readable text; exit codes are 0 valid / 1 invalid / 2 usage (bad flags,
 * unreadable inputs). Commands return a CommandResult or throw CliError — they never print or
 * exit themselves, so later command groups behave the same way for free.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where output goes; tests capture it. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Environment (STELLA_TENANT, SOURCE_DATE_EPOCH, ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory relative paths resolve against. */
  readonly cwd: string;
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

  constructor(code: string, message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.usage;
  }
}

export function emit(io: CliIO, json: boolean, result: CommandResult): ExitCode {
  if (json) io.stdout(`${JSON.stringify(result.json, null, 2)}\n`);
  else if (result.human) io.stdout(result.human.endsWith('\n') ? result.human : `${result.human}\n`);
  return result.exitCode;
}

export function emitError(io: CliIO, json: boolean, err: CliError): ExitCode {
  if (json) io.stdout(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message } }, null, 2)}\n`);
  else io.stderr(`stella: ${err.message}\n`);
  return err.exitCode;
}
