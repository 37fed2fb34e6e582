import { describe, expect, it } from 'vitest';
import { InProcessBus, subjectMatches, uuidv7, type BusMessage } from '../../src/timeline/index.js';

const data = (s: string) => Buffer.from(s);

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

describe('InProcessBus', () => {
  it('drops a message whose id it saw inside the window, and forgets ids after it', async () => {
    let now = 1_000_000;
    const bus = new InProcessBus({ duplicateWindowMs: 1000, clock: () => now });
    const got: string[] = [];
    await bus.consume({ durable: 'd', filterSubject: 's.>', handler: async (b) => void got.push(...b.map((m) => m.id)) });
    expect(await bus.publish('s.a', data('1'), { msgId: 'm1' })).toEqual({ duplicate: false });
    expect(await bus.publish('s.a', data('1'), { msgId: 'm1' })).toEqual({ duplicate: true });
    now += 1001;
    expect(await bus.publish('s.a', data('1'), { msgId: 'm1' })).toEqual({ duplicate: false });
    await until(() => got.length === 2);
    await bus.close();
  });

  it('keeps a durable consumer queue while stopped and resumes there', async () => {
    const bus = new InProcessBus();
    const got: string[] = [];
    const handler = async (b: readonly BusMessage[]) => void got.push(...b.map((m) => Buffer.from(m.data).toString()));
    const c1 = await bus.consume({ durable: 'idx', filterSubject: 'x.*', handler });
    await bus.publish('x.1', data('a'), { msgId: '1' });
    await until(() => got.length === 1);
    await c1.stop();
    await bus.publish('x.2', data('b'), { msgId: '2' });
    await bus.publish('y.2', data('not mine'), { msgId: '3' });
    expect(bus.pending('idx')).toBe(1);
    await bus.consume({ durable: 'idx', filterSubject: 'x.*', handler });
    await until(() => got.length === 2);
    expect(got).toEqual(['a', 'b']);
    await bus.close();
  });

  it('redelivers a batch whose handler failed, with a higher delivery count', async () => {
    const bus = new InProcessBus({ redeliveryDelayMs: 1 });
    const deliveries: number[] = [];
    let fail = true;
    await bus.consume({
      durable: 'd',
      filterSubject: '>',
      handler: async (batch) => {
        deliveries.push(batch[0]!.deliveryCount);
        if (fail) {
          fail = false;
          throw new Error('transient');
        }
      },
    });
    await bus.publish('a', data('x'), { msgId: 'only' });
    await until(() => deliveries.length === 2);
    expect(deliveries).toEqual([1, 2]);
    await bus.close();
  });

  it('makes publishers wait while a consumer queue is full', async () => {
    const bus = new InProcessBus({ maxPending: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await bus.consume({ durable: 'slow', filterSubject: '>', maxBatch: 1, handler: () => gate });
    await bus.publish('a', data('1'), { msgId: '1' });
    await bus.publish('a', data('2'), { msgId: '2' });
    let third = false;
    const p = bus.publish('a', data('3'), { msgId: '3' }).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    release();
    await p;
    expect(third).toBe(true);
    await bus.close();
  });

  it('matches NATS wildcards', () => {
    expect(subjectMatches('stella.*.timeline.>', 'stella.acme.timeline.policy.evaluated')).toBe(true);
    expect(subjectMatches('stella.*.timeline.>', 'stella.acme.timeline')).toBe(false);
    expect(subjectMatches('stella.*.slo.breach', 'stella.acme.slo.breach')).toBe(true);
    expect(subjectMatches('stella.*.slo.breach', 'stella.acme.x.slo.breach')).toBe(false);
  });
});

describe('uuidv7', () => {
  it('orders ids by creation, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]!.slice(0, 13)).toBe('018bcfe5-6800');
  });
});
