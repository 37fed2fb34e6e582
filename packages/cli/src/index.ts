export { createProgram } from './program.js';
export type { CommandContext, ServerOptions } from './context.js';
export { CliError, EXIT, EXIT_CODES_HELP, emit, emitError } from './output.js';
export type { CliIO, CommandResult, ExitCode } from './output.js';
