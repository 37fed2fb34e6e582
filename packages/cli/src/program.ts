import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.js';
import { registerForensic } from './commands/forensic.js';
import { registerTelemetry } from './commands/telemetry.js';
import { CliError, EXIT, emit, emitError, type CliIO, type CommandResult, type ExitCode } from './output.js';

/** Shared by command groups: adds `--json` and wires the action to the output helper. */
export interface CommandContext {
  readonly io: CliIO;
  /** Registers a leaf command's handler; `--json` is added here so no command can forget it. */
  action<O>(cmd: Command, handler: (args: string[], opts: O) => Promise<CommandResult>): Command;
}

/** Builds the `stella` program; `run` resolves to the exit code instead of exiting, for tests and embedding. */
export function createProgram(io: CliIO): { program: Command; run(argv: string[]): Promise<ExitCode> } {
  let exitCode: ExitCode = EXIT.ok;
  let jsonMode = false;
  const program = new Command('stella')
    .description('StellaOps observability and forensics command line')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // In --json mode usage errors are reported as JSON by run(), not as commander's text.
      outputError: (s, write) => {
        if (!jsonMode) write(s);
      },
    });

  const ctx: CommandContext = {
    io,
    action(cmd, handler) {
      cmd.option('--json', 'print one JSON document instead of text');
      cmd.action(async (...received: unknown[]) => {
        // commander passes (...positionals, options, command).
        const opts = received.at(-2) as Parameters<typeof handler>[1];
        const json = !!(opts as { json?: boolean }).json;
        const positionals = received.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
        try {
          exitCode = emit(io, json, await handler(positionals, opts));
        } catch (err) {
          exitCode = emitError(io, json, asCliError(err));
        }
      });
      return cmd;
    },
  };

  registerForensic(program, ctx);
  registerAuth(program, ctx);
  registerTelemetry(program, ctx);

  return {
    program,
    async run(argv) {
      jsonMode = argv.includes('--json');
      exitCode = EXIT.ok;
      try {
        await program.parseAsync(argv, { from: 'user' });
        return exitCode;
      } catch (err) {
        if (err instanceof CommanderError) {
          if (err.exitCode === 0) return EXIT.ok; // --help, --version
          if (jsonMode) emitError(io, true, new CliError('usage', err.message.replace(/^error: /, '')));
          return EXIT.usage;
        }
        return emitError(io, jsonMode, asCliError(err));
      }
    },
  };
}

function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err as { code?: unknown; message?: unknown };
  // Library errors carry stable codes; they are input problems (exit 2), not verification verdicts.
  if (e && typeof e.code === 'string' && typeof e.message === 'string') return new CliError(e.code, e.message, { cause: err });
  return new CliError('internal', `unexpected failure: ${String((err as Error)?.message ?? err)}`, { cause: err });
}
