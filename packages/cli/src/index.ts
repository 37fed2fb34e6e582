export { createProgram } from './program.js';
export type { CommandContext } from './program.js';
export { CliError, EXIT, emit, emitError } from './output.js';
export type { CliIO, CommandResult, ExitCode } from './output.js';
