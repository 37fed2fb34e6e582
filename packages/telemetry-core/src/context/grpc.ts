/**
 * W3C Trace Context over gRPC (`@stellaops/telemetry-core/grpc`): a client interceptor that
 * opens a `grpc.client` span and writes `traceparent`/`tracestate`/`baggage` into the call's
 * metadata, and a server interceptor that continues the caller's trace in an `api.<service>.<method>`
 * span and runs the handler inside the request's context (request id, route, tenant).
 *
 * A separate entry point, so services without gRPC never load `@grpc/grpc-js` (an optional
 * peer dependency; server interceptors need 1.10 or later).
 */
import { randomUUID } from 'node:crypto';
import {
  InterceptingCall,
  ServerInterceptingCall,
  Metadata,
  status as GrpcStatus,
  type Interceptor,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { context as otelContext, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { isValidTenantId } from '../tenant-id.js';
import { contextWithFields, currentFields, type TelemetryContext } from './context.js';
import { currentTraceparent, extractTraceContext, injectTraceHeaders } from './propagation.js';
import { openSpan } from './span-scope.js';

/** Metadata key naming the tenant a call acts on (the gRPC form of the `X-Stella-Tenant` header). */
export const TENANT_METADATA_KEY = 'x-stella-tenant';
const REQUEST_ID_KEY = 'x-request-id';
const PROPAGATION_KEYS = ['traceparent', 'tracestate', 'baggage'] as const;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Server status codes that mean the server failed (OpenTelemetry's RPC conventions); a client span fails on any non-OK. */
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? String(code);
}

/** `/stellaops.policy.v1.PolicyService/Evaluate` → service `stellaops.policy.v1.PolicyService`, method `Evaluate`. */
function splitPath(path: string): { service: string; method: string } {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return { service, method };
}

/** `/stellaops.policy.v1.PolicyService/Evaluate` → `api.stellaops.policy.v1.policyservice.evaluate`. */
export function grpcSpanName(path: string): string {
  const { service, method } = splitPath(path);
  const name = [service, method]
    .filter((part) => part !== '')
    .join('.')
    .toLowerCase()
    .replace(/[^a-z0-9_.]/g, '_');
  return name === '' ? 'api.unknown' : `api.${name}`;
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** The propagation entries of `metadata`, every value kept (tracestate and baggage may repeat). */
function propagationCarrier(metadata: Metadata): Record<string, string[]> {
  const carrier: Record<string, string[]> = {};
  for (const key of PROPAGATION_KEYS) {
    const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
    if (values.length > 0) carrier[key] = values;
  }
  return carrier;
}

function injectInto(metadata: Metadata, ctx: Context): void {
  for (const [key, value] of Object.entries(injectTraceHeaders({} as Record<string, string>, ctx))) metadata.set(key, value);
}

export interface GrpcClientTelemetryOptions {
  /** Tracer for the `grpc.client` spans (a telemetry instance's own, see `createTelemetry`). Default: the global provider's. */
  tracer?: Tracer;
  /**
   * Send the active context's tenant as `x-stella-tenant` when the call's metadata names none.
   * Default true.
   */
  sendTenant?: boolean;
}

/**
 * Client interceptor: `new Client(address, credentials, { interceptors: [grpcClientInterceptor()] })`.
 * Each call gets a `grpc.client` span, child of the context active when the call was made (a new
 * trace outside any), with `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`;
 * any status but OK marks it failed. The span's `traceparent` (and `tracestate`, `baggage`)
 * replace those in the call's metadata. Callbacks and stream events of the call run in the
 * caller's context.
 */
export function grpcClientInterceptor(options: GrpcClientTelemetryOptions = {}): Interceptor {
  const sendTenant = options.sendTenant ?? true;
  return (callOptions, nextCall) => {
    // Interceptors run synchronously inside the stub call: this is the caller's context.
    const caller = otelContext.active();
    if (isTracingSuppressed(caller)) return new InterceptingCall(nextCall(callOptions));
    const { service, method } = splitPath(callOptions.method_definition.path);
    let span: Span | undefined;
    return new InterceptingCall(nextCall(callOptions), {
      start: (metadata, _listener, next) => {
        try {
          const scope = openSpan(
            'grpc.client',
            { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method }, tracer: options.tracer },
            caller,
          );
          span = scope.span;
          injectInto(metadata, scope.ctx);
          const tenant = currentFields(caller).tenant_id;
          if (sendTenant && tenant && metadata.get(TENANT_METADATA_KEY).length === 0) metadata.set(TENANT_METADATA_KEY, tenant);
        } catch {
          // Telemetry never fails a call.
        }
        next(metadata, {
          onReceiveMetadata: (md, nextMd) => otelContext.with(caller, () => nextMd(md)),
          onReceiveMessage: (message, nextMessage) => otelContext.with(caller, () => nextMessage(message)),
          onReceiveStatus: (status: StatusObject, nextStatus) => {
            if (span) {
              span.setAttribute('rpc.grpc.status_code', status.code);
              if (status.code !== GrpcStatus.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: statusName(status.code) });
              span.end();
              span = undefined;
            }
            otelContext.with(caller, () => nextStatus(status));
          },
        });
      },
    });
  };
}

export interface GrpcServerTelemetryOptions {
  /** Tracer for the server spans (a telemetry instance's own, see `createTelemetry`). Default: the global provider's. */
  tracer?: Tracer;
  /** Maps a method path (`/package.Service/Method`) to a span name. Default: `grpcSpanName`. */
  spanName?: (path: string) => string;
  /**
   * Context fields read from a call's metadata. The caller's claim, not an authenticated fact:
   * a service that checks the tenant against the caller's credentials adds what it decided with
   * `withContext` in the handler. Default: `tenant_id` from a valid `x-stella-tenant`.
   */
  fields?: (metadata: Metadata, path: string) => TelemetryContext;
}

function tenantFromMetadata(metadata: Metadata): TelemetryContext {
  const tenant = firstString(metadata, TENANT_METADATA_KEY);
  return isValidTenantId(tenant) ? { tenant_id: tenant } : {};
}

interface CallTelemetry {
  span: Span;
  ctx: Context;
  requestId: string;
}

/**
 * Server interceptor: `new Server({ interceptors: [grpcServerInterceptor()] })`. Each call gets
 * a server span continuing the W3C context of its metadata, and its handler (and the events of
 * its streams) run in a context carrying that span, a request id (`x-request-id` when valid,
 * else a new one), the method path as `route`, and the fields of `options.fields`. The span
 * records `rpc.grpc.status_code`; UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 * UNAVAILABLE and DATA_LOSS mark it failed. Responses echo `traceparent` and `x-request-id`
 * in their metadata.
 */
export function grpcServerInterceptor(options: GrpcServerTelemetryOptions = {}): ServerInterceptor {
  const nameOf = options.spanName ?? grpcSpanName;
  const fieldsOf = options.fields ?? tenantFromMetadata;
  return (methodDescriptor, call) => {
    const path = methodDescriptor.path;
    let state: CallTelemetry | undefined;
    let ended = false;
    let echoed = false;

    const begin = (metadata: Metadata): CallTelemetry => {
      const { service, method } = splitPath(path);
      const claimed = firstString(metadata, REQUEST_ID_KEY);
      const requestId = claimed && REQUEST_ID.test(claimed) ? claimed : randomUUID();
      const fields: TelemetryContext = { ...fieldsOf(metadata, path), request_id: requestId, route: path };
      // Fields go in before the span starts, so the sampler sees the tenant (incident mode).
      const parent = contextWithFields(fields, extractTraceContext(propagationCarrier(metadata)));
      const attributes: Record<string, string> = { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method };
      const tenant = currentFields(parent).tenant_id;
      if (tenant) attributes['stella.tenant_id'] = tenant;
      const scope = openSpan(nameOf(path), { kind: SpanKind.SERVER, attributes, tracer: options.tracer }, parent);
      return { span: scope.span, ctx: scope.ctx, requestId };
    };
    const inCallContext = <T>(fn: () => T): T => (state ? otelContext.with(state.ctx, fn) : fn());
    const echo = (metadata: Metadata): void => {
      if (!state || echoed) return;
      echoed = true;
      const traceparent = currentTraceparent(state.ctx);
      if (traceparent && metadata.get('traceparent').length === 0) metadata.set('traceparent', traceparent);
      if (metadata.get(REQUEST_ID_KEY).length === 0) metadata.set(REQUEST_ID_KEY, state.requestId);
    };
    const end = (code: number): void => {
      if (!state || ended) return;
      ended = true;
      state.span.setAttribute('rpc.grpc.status_code', code);
      if (SERVER_ERRORS.has(code)) state.span.setStatus({ code: SpanStatusCode.ERROR, message: statusName(code) });
      state.span.end();
    };

    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            try {
              state = begin(metadata);
            } catch {
              // Telemetry never fails a call: the handler runs without a span.
            }
            // Client- and bidi-streaming handlers are called from here, unary ones at half-close.
            inCallContext(() => nextMetadata(metadata));
          },
          onReceiveMessage: (message, nextMessage) => inCallContext(() => nextMessage(message)),
          onReceiveHalfClose: (nextHalfClose) => inCallContext(nextHalfClose),
          onCancel: () => end(GrpcStatus.CANCELLED),
        }),
      sendMetadata: (metadata, next) => {
        echo(metadata);
        next(metadata);
      },
      sendStatus: (status, next) => {
        end(status.code);
        if (state && !echoed) {
          // No response metadata was sent (an error before any message): echo in the trailers.
          const trailers = status.metadata ?? new Metadata();
          echo(trailers);
          next({ ...status, metadata: trailers });
          return;
        }
        next(status);
      },
    });
  };
}
