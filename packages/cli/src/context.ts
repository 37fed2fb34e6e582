/**
 * What every command group shares, apart from the program that registers them (so commands
 * and program.ts never import each other): the `CommandContext` whose `action` adds `--json`
 * and reports through one output path, and the options of the commands that talk to the
 * service — server URL, token and tenant, each with its environment variable.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isValidTenantId, tenantIdProblem } from '@stellaops/telemetry-core/tenant-id';
import { asCliError, CliError, emit, emitError, type CliIO, type CommandResult, type ExitCode } from './output.js';

export interface CommandContext {
  readonly io: CliIO;
  /** Registers a leaf command's handler; `--json` is added here so no command can forget it. */
  action<O>(cmd: Command, handler: (args: string[], opts: O) => Promise<CommandResult>): Command;
  /** A path given on the command line, resolved against the working directory. */
  path(p: string): string;
}

/** A context whose actions report their exit code to `onExit`. */
export function createCommandContext(io: CliIO, onExit: (code: ExitCode) => void): CommandContext {
  return {
    io,
    path: (p) => resolve(io.cwd, p),
    action(cmd, handler) {
      cmd.option('--json', 'print one JSON document (snake_case keys) instead of text');
      cmd.action(async (...received: unknown[]) => {
        // commander passes (...positionals, options, command).
        const opts = received.at(-2) as Parameters<typeof handler>[1];
        const json = !!(opts as { json?: boolean }).json;
        const positionals = received.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
        try {
          onExit(emit(io, json, await handler(positionals, opts)));
        } catch (err) {
          onExit(emitError(io, json, asCliError(err)));
        }
      });
      return cmd;
    },
  };
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** The options every service-talking command takes. */
export interface ServerOptions {
  server?: string;
  token?: string;
  tenant?: string;
}

/** Adds --server, --token and --tenant to a command. */
export function withServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', `service URL (default: $STELLA_SERVER or ${DEFAULT_SERVER})`)
    .option('--token <jwt>', 'bearer token (default: $STELLA_TOKEN)')
    .option('--tenant <tenant>', 'tenant (default: $STELLA_TENANT; needed when the token names several, or none)');
}

/** `--tenant`, else $STELLA_TENANT, checked against the one tenant-id rule; undefined when neither is set. */
export function resolveTenant(flag: string | undefined, io: CliIO): string | undefined {
  const tenant = flag ?? io.env['STELLA_TENANT'];
  if (tenant === undefined || tenant === '') return undefined;
  if (!isValidTenantId(tenant)) throw new CliError('usage', tenantIdProblem(flag !== undefined ? '--tenant' : 'STELLA_TENANT'));
  return tenant;
}
