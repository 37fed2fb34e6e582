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

/** What one call may add: another of the token's tenants than the selected one, a body, cancellation. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's tenant for this call (comparing two tenants' records). */
  tenant?: string | undefined;
  /** JSON-encoded unless a Blob or bytes (sent as they are, with `contentType`). */
  body?: unknown;
  contentType?: string;
}

export interface ApiClient {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  /** Any method; a JSON answer (or undefined for an empty one). */
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options?: CallOptions): Promise<T>;
  /** A binary answer (an archive download) as a Blob. */
  download(path: string, options?: CallOptions): Promise<Blob>;
}

/** `path?key=value&…` without the empty values. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

const isBinary = (body: unknown): body is Blob | ArrayBuffer | Uint8Array => body instanceof Blob || body instanceof ArrayBuffer || body instanceof Uint8Array;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const log = options.log ?? ((line: string) => console.info(line));
  const now = options.now ?? Date.now;

  /** Sends one call; answers the response when it is a 2xx, throws an ApiError with the service's explanation otherwise. */
  async function call(method: string, path: string, call: CallOptions, accept: string): Promise<Response> {
    const tp = newTraceparent(options.random);
    const headers: Record<string, string> = { accept, authorization: `Bearer ${options.token}`, traceparent: tp.header };
    const tenant = call.tenant ?? options.tenant;
    if (tenant) headers['x-stella-tenant'] = tenant;
    let body: RequestInit['body'];
    if (call.body !== undefined) {
      if (isBinary(call.body)) {
        body = call.body as RequestInit['body'];
        headers['content-type'] = call.contentType ?? 'application/octet-stream';
      } else {
        body = JSON.stringify(call.body);
        headers['content-type'] = 'application/json';
      }
    }
    const line = (outcome: string): void => log(`[StellaOps Console] ${method} ${path} → ${outcome} trace_id=${tp.traceId}`);
    const report = (status: number | undefined, outcome: string): void => {
      line(outcome);
      options.onCall?.({ method, path, traceId: tp.traceId, status, at: now() });
    };
    let response: Response;
    try {
      response = await doFetch(path, { method, headers, body: body ?? null, signal: call.signal ?? null, credentials: 'omit', cache: 'no-store' });
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
    if (!response.ok) {
      const answer: unknown = await response.json().catch(() => undefined);
      const explained = (answer && typeof answer === 'object' ? answer : {}) as ErrorAnswer;
      throw new ApiError(response.status, explained.message ?? `The service answered HTTP ${response.status}.`, explained, tp.traceId);
    }
    return response;
  }

  async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, callOptions: CallOptions = {}): Promise<T> {
    const response = await call(method, path, callOptions, 'application/json');
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  return {
    get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, { signal }),
    request,
    async download(path: string, callOptions: CallOptions = {}): Promise<Blob> {
      return (await call('GET', path, callOptions, '*/*')).blob();
    },
  };
}
