import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type Client,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { context as otelContext, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contextWithFields, currentContext, openSpan, type ActiveContext } from '../../src/index.js';
import { grpcClientInterceptor, grpcServerInterceptor, grpcSpanName } from '../../src/context/grpc.js';

/** JSON messages: a generic service needs no .proto build step. */
function method<Req, Res>(path: string, responseStream = false): MethodDefinition<Req, Res> {
  const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const deserialize = (bytes: Buffer): never => JSON.parse(bytes.toString('utf8')) as never;
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

interface Probe {
  delayMs?: number;
  fail?: boolean;
}
/** What a handler saw: its context after an `await`, and the metadata it received. */
interface Seen {
  ctx: ActiveContext;
  traceparent?: string;
}
const SERVICE = 'stellaops.test.v1.Probe';
const definition = {
  Inspect: method<Probe, Seen>(`/${SERVICE}/Inspect`),
  Watch: method<Probe, Seen>(`/${SERVICE}/Watch`, true),
};

interface ProbeClient extends Client {
  Inspect(req: Probe, metadata: Metadata, callback: (err: ServiceError | null, res?: Seen) => void): ReturnType<Client['makeUnaryRequest']>;
  Watch(req: Probe, metadata?: Metadata): ReturnType<Client['makeServerStreamRequest']>;
}
const ProbeClientCtor = makeGenericClientConstructor(definition, 'Probe') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: object,
) => ProbeClient;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('grpc-test');

const inspect: handleUnaryCall<Probe, Seen> = (call, callback) => {
  void (async () => {
    // The context survives the handler's own awaits.
    await new Promise((resolve) => setImmediate(resolve));
    if (call.request.fail) return callback({ code: status.INTERNAL, details: 'probe failed' });
    const traceparent = call.metadata.get('traceparent')[0];
    callback(null, { ctx: currentContext(), ...(typeof traceparent === 'string' ? { traceparent } : {}) });
  })();
};
const watch: handleServerStreamingCall<Probe, Seen> = (call) => {
  void (async () => {
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      call.write({ ctx: currentContext() });
    }
    call.end();
  })();
};

let server: Server;
let address: string;
beforeAll(async () => {
  server = new Server({ interceptors: [grpcServerInterceptor({ tracer })] });
  server.addService(definition, { Inspect: inspect, Watch: watch });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  exporter.reset();
});
function client(interceptors = [grpcClientInterceptor({ tracer })]): ProbeClient {
  const c = new ProbeClientCtor(address, credentials.createInsecure(), { interceptors });
  clients.push(c);
  return c;
}

interface Answer {
  err: ServiceError | null;
  res?: Seen;
  /** The caller's context inside the callback. */
  callbackCtx: ActiveContext;
  responseMetadata?: Metadata;
}
function call(c: ProbeClient, req: Probe, metadata = new Metadata()): Promise<Answer> {
  return new Promise((resolve) => {
    let responseMetadata: Metadata | undefined;
    const unary = c.Inspect(req, metadata, (err, res) => resolve({ err, res, callbackCtx: currentContext(), responseMetadata }));
    unary.on('metadata', (md: Metadata) => (responseMetadata = md));
  });
}

function spansNamed(name: string): ReturnType<InMemorySpanExporter['getFinishedSpans']> {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}
const SERVER_SPAN = `api.${SERVICE.toLowerCase()}.inspect`;

describe('gRPC trace context', () => {
  it('carries the caller’s trace and tenant to the server over a real connection', async () => {
    const caller = openSpan('test.caller', { tracer });
    const answer = await otelContext.with(contextWithFields({ tenant_id: 'acme' }, caller.ctx), () => call(client(), {}));
    caller.span.end();
    expect(answer.err).toBeNull();

    const callerIds = caller.span.spanContext();
    const [clientSpan] = spansNamed('grpc.client');
    const [serverSpan] = spansNamed(SERVER_SPAN);
    expect(clientSpan!.kind).toBe(SpanKind.CLIENT);
    expect(clientSpan!.parentSpanContext?.spanId).toBe(callerIds.spanId);
    expect(clientSpan!.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': SERVICE, 'rpc.method': 'Inspect', 'rpc.grpc.status_code': status.OK });
    expect(clientSpan!.status.code).toBe(SpanStatusCode.UNSET);

    // The server continues the caller's trace, parented on the client span.
    const seen = answer.res!.ctx;
    expect(seen.trace_id).toBe(callerIds.traceId);
    expect(seen.parent_span_id).toBe(clientSpan!.spanContext().spanId);
    expect(seen.span_id).toBe(serverSpan!.spanContext().spanId);
    expect(answer.res!.traceparent).toBe(`00-${callerIds.traceId}-${clientSpan!.spanContext().spanId}-01`);
    expect(serverSpan!.kind).toBe(SpanKind.SERVER);
    expect(serverSpan!.parentSpanContext?.spanId).toBe(clientSpan!.spanContext().spanId);
    expect(serverSpan!.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': SERVICE,
      'rpc.method': 'Inspect',
      'rpc.grpc.status_code': status.OK,
      'stella.tenant_id': 'acme',
    });

    // The handler ran in the request's context: tenant from the metadata, route and request id.
    expect(seen.tenant_id).toBe('acme');
    expect(seen.route).toBe(`/${SERVICE}/Inspect`);
    expect(seen.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // The response echoes the server span's traceparent and the request id.
    expect(answer.responseMetadata?.get('traceparent')).toEqual([`00-${seen.trace_id}-${seen.span_id}-01`]);
    expect(answer.responseMetadata?.get('x-request-id')).toEqual([seen.request_id]);
    // The callback runs in the caller's context.
    expect(answer.callbackCtx.span_id).toBe(callerIds.spanId);
    expect(answer.callbackCtx.tenant_id).toBe('acme');
  });

  it('continues a trace from metadata set by a caller without the interceptor', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parent = 'b7ad6b7169203331';
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${parent}-01`);
    metadata.set('x-request-id', 'req-42');
    metadata.set('x-stella-tenant', 'globex');
    const answer = await call(client([]), {}, metadata);
    expect(answer.res!.ctx).toMatchObject({ trace_id: traceId, parent_span_id: parent, tenant_id: 'globex', request_id: 'req-42' });
    expect(spansNamed('grpc.client')).toEqual([]);
    expect(spansNamed(SERVER_SPAN)[0]!.parentSpanContext?.spanId).toBe(parent);
  });

  it('ignores a tenant that breaks the tenant-id rule', async () => {
    const metadata = new Metadata();
    metadata.set('x-stella-tenant', 'a.b>');
    const answer = await call(client(), {}, metadata);
    expect(answer.res!.ctx.tenant_id).toBeUndefined();
    expect(spansNamed(SERVER_SPAN)[0]!.attributes['stella.tenant_id']).toBeUndefined();
  });

  it('starts a new trace for a call made outside any span', async () => {
    const answer = await call(client(), {});
    const [clientSpan] = spansNamed('grpc.client');
    expect(clientSpan!.parentSpanContext).toBeUndefined();
    expect(answer.res!.ctx.trace_id).toBe(clientSpan!.spanContext().traceId);
    expect(answer.res!.ctx.parent_span_id).toBe(clientSpan!.spanContext().spanId);
  });

  it('records a failed call on both spans, and echoes the trace in the trailers', async () => {
    const answer = await call(client(), { fail: true });
    expect(answer.err?.code).toBe(status.INTERNAL);
    const [clientSpan] = spansNamed('grpc.client');
    const [serverSpan] = spansNamed(SERVER_SPAN);
    expect(clientSpan!.attributes['rpc.grpc.status_code']).toBe(status.INTERNAL);
    expect(clientSpan!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
    expect(serverSpan!.attributes['rpc.grpc.status_code']).toBe(status.INTERNAL);
    expect(serverSpan!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
    expect(answer.err!.metadata.get('traceparent')).toEqual([`00-${serverSpan!.spanContext().traceId}-${serverSpan!.spanContext().spanId}-01`]);
  });

  it('runs a server-streaming handler in the call’s context until the stream ends', async () => {
    const caller = openSpan('test.caller', { tracer });
    const messages = await otelContext.with(caller.ctx, async () => {
      const stream = client().Watch({});
      const out: Seen[] = [];
      for await (const message of stream) out.push(message as Seen);
      return out;
    });
    caller.span.end();
    const [serverSpan] = spansNamed(`api.${SERVICE.toLowerCase()}.watch`);
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      expect(m.ctx.trace_id).toBe(caller.span.spanContext().traceId);
      expect(m.ctx.span_id).toBe(serverSpan!.spanContext().spanId);
    }
    expect(serverSpan!.attributes['rpc.grpc.status_code']).toBe(status.OK);
  });

  it('names server spans api.<service>.<method> in the span-name convention', () => {
    expect(grpcSpanName('/stellaops.policy.v1.PolicyService/Evaluate')).toBe('api.stellaops.policy.v1.policyservice.evaluate');
    expect(grpcSpanName('/Weird-Service/Do-It')).toBe('api.weird_service.do_it');
  });

  it('keeps @grpc/grpc-js out of a process that imports only the main entry point', () => {
    const root = fileURLToPath(new URL('../../../..', import.meta.url));
    // Counts grpc-js modules loaded after the main entry point, then after the grpc one.
    const script = [
      "import { createRequire } from 'node:module';",
      'const cache = createRequire(import.meta.url).cache;',
      "const grpcModules = () => Object.keys(cache).filter((f) => f.includes('@grpc/grpc-js')).length;",
      "await import('@stellaops/telemetry-core');",
      'const afterMain = grpcModules();',
      "await import('@stellaops/telemetry-core/grpc');",
      'process.stdout.write(JSON.stringify([afterMain, grpcModules()]));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--conditions=@stellaops/source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const [afterMain, afterGrpc] = JSON.parse(out) as [number, number];
    expect(afterMain).toBe(0);
    expect(afterGrpc).toBeGreaterThan(0);
  });
});
