import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.js';
import { registerDora } from './commands/dora.js';
import { registerFederation } from './commands/federation.js';
import { registerForensic } from './commands/forensic.js';
import { registerObs } from './commands/obs.js';
import { registerOfflineKit } from './commands/offline-kit.js';
import { registerSlo } from './commands/slo.js';
import { registerTelemetry } from './commands/telemetry.js';
import { createCommandContext } from './context.js';
import { asCliError, CliError, EXIT, EXIT_CODES_HELP, emitError, type CliIO, type ExitCode } from './output.js';

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
    })
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);

  const ctx = createCommandContext(io, (code) => {
    exitCode = code;
  });
  registerForensic(program, ctx);
  registerAuth(program, ctx);
  registerTelemetry(program, ctx);
  registerSlo(program, ctx);
  registerObs(program, ctx);
  registerDora(program, ctx);
  registerFederation(program, ctx);
  registerOfflineKit(program, ctx);

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
