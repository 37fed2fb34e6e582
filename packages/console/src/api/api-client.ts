/**
 * The one way the Console calls the service: every call carries the signed-in token, the
 * selected tenant (`X-Stella-Tenant`) and a fresh sampled `traceparent` (CON-4). Each call's
 * trace id is written to the browser's console and handed to `onCall` (the support footer), so
 * a user can quote it and support can open the call's trace. Error answers become `ApiError`s
 * that keep the service's explanation: its `error_code`, message, and for a 403 the scope and
 * tenant that would have allowed the request.
 */
import type { ErrorAnswer } from './api-types.js';
import { newTraceparent, traceIdOf, type RandomBytes } from './traceparent.js';

/** One API call, as the support footer shows it. */
export interface ApiCall {
  method: string;
  path: string;
  traceId: string;
  /** Undefined when no answer came (network failure, aborted). */
  status: number | undefined;
  at: number;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** HTTP status; 0 when the service could not be reached. */
    readonly status: number,
    message: string,
    readonly answer: ErrorAnswer,
    /** The trace id of the failed call. */
    readonly traceId: string,
  ) {
    super(message);
  }

  get code(): string | undefined {
    return this.answer.error_code;
  }
}

export interface ApiClientOptions {
  token: string;
  /** Sent as `X-Stella-Tenant`; none when the token's only tenant is meant. */
  tenant?: string | undefined;
  /** Told of every call once it is answered (or fails). */
  onCall?: (call: ApiCall) => void;
  /** Where each call's line goes. Default: the browser console (`console.info`). */
  log?: (line: string) => void;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default: the Web Crypto random source. */
  random?: RandomBytes;
  /** Default: `Date.now`. */
  now?: () => number;
}

export interface ApiClient {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
}

/** `path?key=value&…` without the empty values. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const log = options.log ?? ((line: string) => console.info(line));
  const now = options.now ?? Date.now;
  return {
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      const tp = newTraceparent(options.random);
      const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${options.token}`, traceparent: tp.header };
      if (options.tenant) headers['x-stella-tenant'] = options.tenant;
      const line = (outcome: string): void => log(`[StellaOps Console] GET ${path} → ${outcome} trace_id=${tp.traceId}`);
      const report = (status: number | undefined, outcome: string): void => {
        line(outcome);
        options.onCall?.({ method: 'GET', path, traceId: tp.traceId, status, at: now() });
      };
      let response: Response;
      try {
        response = await doFetch(path, { method: 'GET', headers, signal: signal ?? null, credentials: 'omit', cache: 'no-store' });
      } catch (error) {
        // A call the page no longer wants (it moved on) may still have reached the service: its id is logged too.
        if ((error as Error).name === 'AbortError') {
          line('cancelled');
          throw error;
        }
        report(undefined, 'no answer');
        throw new ApiError(0, 'The service could not be reached. Check that it runs and that this page was loaded from it.', {}, tp.traceId);
      }
      // The service continues the caller's trace; a proxy that restarts it would echo another id.
      const echoed = traceIdOf(response.headers.get('traceparent'));
      report(response.status, `${response.status}${echoed && echoed !== tp.traceId ? ` (service trace_id=${echoed})` : ''}`);
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) {
        const answer = (body && typeof body === 'object' ? body : {}) as ErrorAnswer;
        throw new ApiError(response.status, answer.message ?? `The service answered HTTP ${response.status}.`, answer, tp.traceId);
      }
      return body as T;
    },
  };
}
