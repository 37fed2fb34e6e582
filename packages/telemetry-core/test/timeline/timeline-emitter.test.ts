import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  buildTimelineEvent,
  canonicalJson,
  decodeTimelineEvent,
  encodeTimelineEvent,
  InProcessBus,
  TimelineEmitter,
  timelineEventDigest,
  type BusMessage,
} from '../../src/timeline/index.js';
import { withContext } from '../../src/context/context.js';

const FIXED = Date.parse('2025-02-03T04:05:06.789Z');

function collect(bus: InProcessBus, filter: string): { messages: BusMessage[] } {
  const sink = { messages: [] as BusMessage[] };
  void bus.consume({ durable: `c-${filter}`, filterSubject: filter, handler: async (batch) => void sink.messages.push(...batch) });
  return sink;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

describe('TimelineEmitter', () => {
  it('fills tenant, project, actor and trace from context and publishes on the tenant subject', async () => {
    const bus = new InProcessBus();
    const sink = collect(bus, 'stella.*.timeline.>');
    const emitter = new TimelineEmitter({ bus, clock: () => FIXED });
    const result = await withContext({ tenant_id: 'acme', project_id: 'p1', actor: 'svc-export' }, () =>
      emitter.emit({ kind: 'export.bundle.created', resource_type: 'export', resource_id: 'exp-1', details: { files: 3 } }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.event).toMatchObject({
      tenant_id: 'acme',
      project_id: 'p1',
      actor: 'svc-export',
      kind: 'export.bundle.created',
      ts: '2025-02-03T04:05:06.789Z',
      details: { files: 3 },
    });
    expect(result.event.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await until(() => sink.messages.length === 1);
    expect(sink.messages[0]!.subject).toBe('stella.acme.timeline.export.bundle.created');
    expect(sink.messages[0]!.id).toBe(result.event.event_id);
    expect(decodeTimelineEvent(sink.messages[0]!.data)).toEqual(result.event);
  });

  it('scrubs secrets and e-mail addresses out of details before hashing', async () => {
    const emitter = new TimelineEmitter({ bus: new InProcessBus() });
    const event = emitter.build({
      kind: 'auth.login',
      tenant_id: 'acme',
      details: { password: 'hunter2', note: 'contact alice@example.com', header: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl' },
    });
    const text = JSON.stringify(event.details);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('alice@example.com');
    expect(text).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(event.digest).toBe(timelineEventDigest(event));
  });

  it('hashes the canonical JSON of every field but the digest', () => {
    const event = buildTimelineEvent({ kind: 'a.b', tenant_id: 't', event_id: '0195a3c0-0000-7000-8000-000000000001', ts: '2025-01-01T00:00:00Z', details: { z: 1, a: [2, { y: 3, b: 4 }] } });
    const { digest, ...rest } = event;
    expect(canonicalJson(rest)).toBe(
      '{"actor":null,"details":{"a":[2,{"b":4,"y":3}],"z":1},"event_id":"0195a3c0-0000-7000-8000-000000000001","kind":"a.b","project_id":null,"resource_id":null,"resource_type":null,"tenant_id":"t","trace_id":null,"ts":"2025-01-01T00:00:00.000Z"}',
    );
    expect(digest).toBe(`sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`);
    // Tampering with any field is detected on decode.
    const tampered = Buffer.from(canonicalJson({ ...event, resource_id: 'other' }));
    expect(() => decodeTimelineEvent(tampered)).toThrow(expect.objectContaining({ code: 'timeline.digest_mismatch' }));
    expect(decodeTimelineEvent(encodeTimelineEvent(event))).toEqual(event);
  });

  it('returns typed failures instead of throwing, for tenants that cannot be subject tokens and bad kinds', async () => {
    const errors: string[] = [];
    const emitter = new TimelineEmitter({ bus: new InProcessBus(), onError: (e) => errors.push(e.code) });
    for (const tenant_id of ['a.b', 'a*', 'a>', 'a b', '', 'global']) {
      const r = await emitter.emit({ kind: 'x.y', tenant_id });
      expect(r).toMatchObject({ ok: false, error: { code: 'timeline.tenant_invalid' } });
    }
    expect(await emitter.emit({ kind: 'x.y' })).toMatchObject({ ok: false, error: { code: 'timeline.tenant_invalid' } });
    expect(await emitter.emit({ kind: 'Bad Kind', tenant_id: 'acme' })).toMatchObject({ ok: false, error: { code: 'timeline.kind_invalid', field: 'kind' } });
    expect(await emitter.emit({ kind: 'x.y', tenant_id: 'acme', trace_id: 'zz' })).toMatchObject({ ok: false, error: { field: 'trace_id' } });
    expect(await emitter.emit({ kind: 'x.y', tenant_id: 'acme', details: { big: 'x'.repeat(20_000) } })).toMatchObject({ ok: false, error: { code: 'timeline.details_too_large' } });
    expect(errors).toHaveLength(10);
  });

  it('reports a closed bus as a failed result', async () => {
    const bus = new InProcessBus();
    await bus.close();
    const r = await new TimelineEmitter({ bus }).emit({ kind: 'x.y', tenant_id: 'acme' });
    expect(r).toMatchObject({ ok: false, error: { code: 'bus.closed' } });
  });
});
