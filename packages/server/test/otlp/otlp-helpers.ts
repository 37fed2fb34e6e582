/** Shared setup for the receiver tests: a listening service with ephemeral OTLP ports and spans made by the real SDK. */
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { OtlpPorts, OtlpRuntime } from '../../src/otlp/otlp-feature.js';
import type { SegmentsRuntime } from '../../src/segments/segments-feature.js';
import type { TelemetryStore } from '../../src/segments/telemetry-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, resolveConfig } from '../../src/index.js';
import type { TestService } from '../helpers/service.js';

export interface ReceiverService extends TestService {
  ports: OtlpPorts;
  otlp: OtlpRuntime;
  telemetry: TelemetryStore;
  segments: SegmentsRuntime;
}

export async function startReceiver(env: Record<string, string | undefined> = {}, flags: string[] = [], clock?: () => number, dataDir?: string): Promise<ReceiverService> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'stella-otlp-'));
  const config = resolveConfig(['--data-dir', dir, '--port', '0', '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'error', ...flags], env);
  const service = await createService({ config, ...(clock ? { clock } : {}) });
  await service.listen();
  const otlp = service.features.get('otlp') as OtlpRuntime;
  return {
    service,
    dataDir: dir,
    token: (tenant, scopes, options = {}) => service.devAuthority!.mint({ tenant, scopes, ttlSeconds: 30 * 86_400, now: clock?.(), ...options }),
    stop: async () => {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
    otlp,
    ports: await otlp.listening(),
    telemetry: service.parts.telemetry,
    segments: service.features.get('segments') as SegmentsRuntime,
  };
}

/** Spans from the real SDK: a server span with a child, attributes including values the scrubber must redact. */
export function makeSpans(service: string, extra: Record<string, string> = {}): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service, ...extra }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('otlp-test', '1.2.3');
  tracer.startActiveSpan('GET /policy/evaluate', { kind: SpanKind.SERVER, attributes: { 'http.route': '/policy/evaluate', 'http.request.method': 'GET', 'user.email': 'alice@example.com' } }, (root) => {
    const child = tracer.startSpan('policy.evaluate', { attributes: { 'policy.version': '7', 'db.password': 'hunter2-secret', note: 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345' } });
    child.addEvent('rule.matched', { rule: 'R-1' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'denied for alice@example.com' });
    child.end();
    root.end();
  });
  return memory.getFinishedSpans();
}

export function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}
