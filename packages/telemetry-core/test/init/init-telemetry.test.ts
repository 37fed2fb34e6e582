import { afterEach, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { InMemoryMetricExporter, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger, initTelemetry, withSpan, type TelemetryHandle } from '../../src/index.js';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let handle: TelemetryHandle | undefined;
let dir: string | undefined;
afterEach(async () => {
  await handle?.shutdown({ timeoutMs: 500 });
  handle = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Records what it was asked to export (the in-memory exporter forgets everything on shutdown). */
class KeepingExporter implements SpanExporter {
  spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], cb: (r: { code: ExportResultCode }) => void): void {
    this.spans.push(...spans);
    cb({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

describe('initTelemetry', () => {
  it('is idempotent while running and can start again after shutdown', async () => {
    const first = initTelemetry({ service: 'init-a', exporters: { spans: new InMemorySpanExporter() } });
    const second = initTelemetry({ service: 'init-b', exporters: { spans: new InMemorySpanExporter() } });
    expect(second).toBe(first);
    handle = await first;
    expect(handle.service).toBe('init-a');
    const again = handle.shutdown();
    expect(handle.shutdown()).toBe(again);
    expect(await again).toEqual({ flushed: true });
    handle = await initTelemetry({ service: 'init-c', exporters: { spans: new InMemorySpanExporter() } });
    expect(handle.service).toBe('init-c');
  });

  it('rejects a missing service name with a clear error', async () => {
    await expect(initTelemetry({} as never)).rejects.toThrow(/options.service/);
  });

  it('flushes spans, metrics and logs on shutdown', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stella-init-'));
    const spans = new KeepingExporter();
    const logs = new InMemoryLogRecordExporter();
    const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = await initTelemetry({
      service: 'init-flush',
      exporters: { spans, logs, metrics },
      sampling: { ratio: 1 },
      batch: { traces: { scheduledDelayMillis: 60_000 }, logs: { scheduledDelayMillis: 60_000 } },
      metrics: { exportIntervalMillis: 60_000 },
      logs: { spillDir: dir },
    });
    const logger = createLogger({ service: 'init-flush', destination: new Writable({ write(_c, _e, cb) { cb(); } }) });
    withSpan('test.work', {}, () => logger.warn('about to stop'));
    expect(spans.spans).toHaveLength(0);
    const exportedLogs: unknown[] = [];
    const origExport = logs.export.bind(logs);
    logs.export = (records, cb) => {
      exportedLogs.push(...records.map((r) => r.body));
      origExport(records, cb);
    };
    const result = await handle.shutdown();
    handle = undefined;
    expect(result.flushed).toBe(true);
    expect(spans.spans.map((s) => s.name)).toEqual(['test.work']);
    expect(exportedLogs).toEqual(['about to stop']);
    // After shutdown the global tracer is released: spans no longer reach the old pipeline.
    trace.getTracer('x').startSpan('after').end();
    expect(spans.spans).toHaveLength(1);
  });

  it('returns within the deadline when an exporter hangs', async () => {
    const hanging: SpanExporter = { export: () => undefined, shutdown: () => new Promise(() => undefined) };
    handle = await initTelemetry({ service: 'init-hang', exporters: { spans: hanging }, sampling: { ratio: 1 } });
    withSpan('test.work', {}, () => undefined);
    const started = performance.now();
    const result = await handle.shutdown({ timeoutMs: 200 });
    handle = undefined;
    expect(result.flushed).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
