import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  createLogger,
  initTelemetry,
  isConventionalSpanName,
  logDecision,
  SPAN_ATTRIBUTES,
  SPAN_NAMES,
  startSpan,
  withContext,
  withSpan,
  type TelemetryHandle,
} from '../../src/index.js';

let handle: TelemetryHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
});

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const raw: string[] = [];
  return {
    stream: new Writable({ write(chunk, _e, cb) { raw.push(String(chunk)); cb(); } }),
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function start(): Promise<InMemorySpanExporter> {
  const exporter = new InMemorySpanExporter();
  handle = await initTelemetry({ service: 'trace-test', exporters: { spans: exporter }, sampling: { ratio: 1 }, metrics: { requestMetrics: false } });
  return exporter;
}

describe('withSpan / startSpan', () => {
  it('makes the span active for logs and adds context fields to logs and attributes', async () => {
    const exporter = await start();
    const out = capture();
    const logger = createLogger({ service: 'trace-test', destination: out.stream });
    await withSpan(SPAN_NAMES.policyEvaluate, { 'stella.policy.version': 'v7' }, async () => {
      await Promise.resolve();
      logger.info('evaluating');
      withSpan(SPAN_NAMES.ledgerAppend, {}, () => logger.info('appending'));
    }, { fields: { tenant_id: 'acme', run_id: 'run-1' } });
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'policy.evaluate')!;
    const child = spans.find((s) => s.name === 'ledger.append')!;
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(parent.attributes).toMatchObject({ 'stella.tenant_id': 'acme', 'stella.run_id': 'run-1', 'stella.policy.version': 'v7' });
    // The child inherits the tenant from the context at its start.
    expect(child.attributes['stella.tenant_id']).toBe('acme');
    const [evaluating, appending] = out.lines();
    expect(evaluating).toMatchObject({ msg: 'evaluating', tenant_id: 'acme', run_id: 'run-1', trace_id: parent.spanContext().traceId, span_id: parent.spanContext().spanId });
    expect(appending).toMatchObject({ msg: 'appending', span_id: child.spanContext().spanId, parent_span_id: parent.spanContext().spanId });
  });

  it('marks errors, records the exception and rethrows (sync and async)', async () => {
    const exporter = await start();
    expect(() => withSpan('test.sync', {}, () => { throw new TypeError('bad input'); })).toThrow(TypeError);
    await expect(withSpan('test.async', {}, async () => { throw new RangeError('too far'); })).rejects.toThrow(RangeError);
    const ok = await withSpan('test.ok', {}, async () => 42);
    expect(ok).toBe(42);
    await handle!.forceFlush();
    const byName = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    expect(byName['test.sync']!.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName['test.sync']!.events[0]!.name).toBe('exception');
    expect(byName['test.async']!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'RangeError' });
    expect(byName['test.ok']!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('startSpan gives a handle whose end is idempotent', async () => {
    const exporter = await start();
    const s = startSpan(SPAN_NAMES.runnerExecute, { 'stella.job_id': 'j1' });
    s.run(() => expect(trace.getActiveSpan()).toBe(s.span));
    s.end();
    s.end(new Error('ignored: already ended'));
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('scrubs span attributes, events and decision attributes with the log scrubber — also for third-party spans', async () => {
    const exporter = await start();
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    withContext({ tenant_id: 'acme' }, () =>
      withSpan('api.findings', { 'http.request.header.authorization': `Bearer ${jwt}`, 'db.statement': 'select * from users where email=\'jane.doe@example.com\'' }, (span) => {
        span.addEvent('retry', { url: 'postgres://app:s3cretPass@db.internal:5432/stella' });
        logDecision({ kind: 'policy', effect: 'deny', reason: 'blocked for jane.doe@example.com', policy_version: 'p-9', rule_ids: ['R1'] });
      }),
    );
    const thirdParty = trace.getTracer('some-instrumentation').startSpan('pg.query', { attributes: { password: 'hunter2hunter2', 'db.name': 'stella' } });
    thirdParty.end();
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    const api = spans.find((s) => s.name === 'api.findings')!;
    const serialized = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events })));
    expect(serialized).not.toContain(jwt);
    expect(serialized).not.toContain('jane.doe@example.com');
    expect(serialized).not.toContain('s3cretPass');
    expect(serialized).not.toContain('hunter2hunter2');
    expect(String(api.attributes['db.statement'])).toContain('[REDACTED:');
    expect(api.attributes[SPAN_ATTRIBUTES.policyVersion]).toBe('p-9');
    expect(api.attributes[SPAN_ATTRIBUTES.policyEffect]).toBe('deny');
    expect(api.attributes[SPAN_ATTRIBUTES.tenantId]).toBe('acme');
    const pg = spans.find((s) => s.name === 'pg.query')!;
    expect(pg.attributes['db.name']).toBe('stella');
  });

  it('exports span-name constants that follow the naming convention', () => {
    for (const name of Object.values(SPAN_NAMES)) expect(isConventionalSpanName(name)).toBe(true);
    expect(isConventionalSpanName('api.sbom.{id}')).toBe(true);
    expect(isConventionalSpanName('DoStuff')).toBe(false);
  });
});
