/**
 * The one HTTP client every service-talking `stella` command uses (CLI-4): resolves
 * --server/--token/--tenant (or $STELLA_SERVER/$STELLA_TOKEN/$STELLA_TENANT), sends a fresh
 * W3C `traceparent` with each command, and turns every error answer into a `CliError` (exit 2)
 * that quotes the service's `error_code`, its message and the trace id, so a support case can
 * find the request in the service's traces and logs; where the answer calls for a flag or a
 * token the CLI can give, a hint says how.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_SERVER, resolveTenant, type ServerOptions } from './context.js';
import { CliError, EXIT, type CliIO, type CommandResult } from './output.js';

export interface Connection {
  base: URL;
  headers: Record<string, string>;
  traceId: string;
  /** The tenant named with --tenant / $STELLA_TENANT, if any. */
  tenant: string | undefined;
  /** How `stella auth token` would be run here (for hints): with --data-dir unless $STELLA_DATA_DIR is set. */
  mintCommand: string;
  /** Aborts the requests in flight (a live view the user interrupts); none by default. */
  signal?: AbortSignal;
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
  if (!token) {
    throw new CliError('usage', 'no token: pass --token or set STELLA_TOKEN', {
      hint: `on an embedded install: export STELLA_TOKEN=$(stella auth token${io.env['STELLA_DATA_DIR'] ? '' : ' --data-dir <service data dir>'} --tenant <tenant> --scope <area:action> ...)`,
    });
  }
  const tenant = resolveTenant(opts.tenant, io);
  const tp = newTraceparent();
  return {
    base,
    tenant,
    mintCommand: io.env['STELLA_DATA_DIR'] ? 'stella auth token' : 'stella auth token --data-dir <service data dir>',
    traceId: tp.traceId,
    headers: { authorization: `Bearer ${token}`, traceparent: tp.header, ...(tenant ? { 'x-stella-tenant': tenant } : {}) },
  };
}

/** The body of a service error answer (docs/errors.md). */
interface ErrorAnswer {
  error_code?: string;
  message?: string;
  required_scope?: string;
}

/** What the CLI can add to an error answer: the flag or token that fixes it. */
function hintFor(answer: ErrorAnswer, conn: Connection): string | undefined {
  switch (answer.error_code) {
    case 'tenant.required':
    case 'tenant.ambiguous':
    case 'tenant.invalid':
      return 'name the tenant with --tenant <tenant> or STELLA_TENANT';
    case 'auth.scope_denied':
    case 'auth.tenant_denied':
      return answer.required_scope
        ? `use a token with ${answer.required_scope}; on an embedded install: ${conn.mintCommand} --scope ${answer.required_scope}`
        : undefined;
    case 'auth.token_expired':
      return `use a new token; on an embedded install: ${conn.mintCommand} --scope ...`;
    case 'evidence.platform_scope_required':
      return (
        'the platform key needs a platform-wide token (stella:evidence:admin with no #tenant/ part); on an embedded install: ' +
        `stella forensic key rotate --scope platform --tenant ${conn.tenant ?? '<tenant>'} --token "$(${conn.mintCommand} --scope stella:evidence:admin)"`
      );
    default:
      return undefined;
  }
}

export async function request(conn: Connection, method: string, path: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(new URL(path, conn.base), {
      method,
      headers: { ...conn.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(conn.signal ? { signal: conn.signal } : {}),
    });
  } catch (cause) {
    throw new CliError('server_unreachable', `cannot reach ${conn.base.origin}: ${(cause as Error).message} (trace_id ${conn.traceId})`, { cause });
  }
  if (!res.ok) {
    let answer: ErrorAnswer = {};
    try {
      answer = (await res.json()) as ErrorAnswer;
    } catch {
      // A non-JSON error body (a proxy in between): the status says what there is to say.
    }
    const code = answer.error_code ?? `http_${res.status}`;
    const hint = hintFor(answer, conn);
    throw new CliError(code, `${method} ${path} → ${res.status} ${code}: ${answer.message ?? res.statusText} (trace_id ${conn.traceId})`, {
      exitCode: EXIT.usage,
      ...(hint ? { hint } : {}),
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
