/**
 * The one HTTP client every service-talking `stella` command uses (CLI-4): resolves
 * --server/--token/--tenant (or $STELLA_SERVER/$STELLA_TOKEN/$STELLA_TENANT), sends a fresh
 * W3C `traceparent` with each command, and turns service errors into `CliError`s that quote
 * the trace id, so a support case can find the request in the service's traces and logs.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { CliError, EXIT, type CliIO, type CommandResult } from './output.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface ServerOptions {
  server?: string;
  token?: string;
  tenant?: string;
}

export interface Connection {
  base: URL;
  headers: Record<string, string>;
  traceId: string;
}

/** Adds --server, --token and --tenant to a command. */
export function withServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', `service URL (default: $STELLA_SERVER or ${DEFAULT_SERVER})`)
    .option('--token <jwt>', 'bearer token (default: $STELLA_TOKEN)')
    .option('--tenant <tenant>', 'tenant (default: $STELLA_TENANT; needed when the token names several)');
}

/** A new trace id and the `traceparent` header that starts it (sampled). */
export function newTraceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

export function connect(opts: ServerOptions, io: CliIO): Connection {
  const raw = opts.server ?? io.env['STELLA_SERVER'] ?? DEFAULT_SERVER;
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    throw new CliError('usage', `--server "${raw}" is not a URL (e.g. ${DEFAULT_SERVER})`);
  }
  const token = opts.token ?? io.env['STELLA_TOKEN'];
  if (!token) throw new CliError('usage', 'no token: pass --token or set STELLA_TOKEN (embedded installs: stella auth token --data-dir <dir> ...)');
  const tenant = opts.tenant ?? io.env['STELLA_TENANT'];
  if (tenant !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(tenant)) {
    throw new CliError('usage', '--tenant must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
  }
  const tp = newTraceparent();
  return {
    base,
    traceId: tp.traceId,
    headers: { authorization: `Bearer ${token}`, traceparent: tp.header, ...(tenant ? { 'x-stella-tenant': tenant } : {}) },
  };
}

export async function request(conn: Connection, method: string, path: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(new URL(path, conn.base), {
      method,
      headers: { ...conn.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new CliError('server_unreachable', `cannot reach ${conn.base.origin}: ${(cause as Error).message} (trace_id ${conn.traceId})`, { cause });
  }
  if (!res.ok) {
    let detail: { error_code?: string; message?: string } = {};
    try {
      detail = (await res.json()) as typeof detail;
    } catch {
      // A non-JSON error body: the status says enough.
    }
    // 4xx is the caller's to fix (usage); 5xx is the service's.
    throw new CliError(detail.error_code ?? `http_${res.status}`, `${method} ${path} → ${res.status}: ${detail.message ?? res.statusText} (trace_id ${conn.traceId})`, {
      exitCode: res.status >= 500 ? EXIT.invalid : EXIT.usage,
    });
  }
  return res;
}

export async function requestJson<T>(conn: Connection, method: string, path: string, body?: unknown): Promise<T> {
  return (await (await request(conn, method, path, body)).json()) as T;
}

/** A command result that always carries the trace id, in JSON and in the human lines. */
export function traced(traceId: string, ok: boolean, payload: Record<string, unknown>, lines: string[]): CommandResult {
  return { exitCode: ok ? EXIT.ok : EXIT.invalid, json: { ok, ...payload, trace_id: traceId }, human: [...lines, `trace_id ${traceId}`].join('\n') };
}
