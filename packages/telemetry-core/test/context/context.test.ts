import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CONTEXT_FIELDS, currentContext, withContext } from '../../src/index.js';

describe('withContext / currentContext', () => {
  it('carries every context field and merges nested calls, inner values winning', () => {
    const all = Object.fromEntries(CONTEXT_FIELDS.map((k) => [k, `${k}-value`]));
    withContext(all, () => {
      expect(currentContext()).toMatchObject(all);
      withContext({ actor: 'svc:runner', job_id: 'job-2' }, () => {
        const ctx = currentContext();
        expect(ctx.actor).toBe('svc:runner');
        expect(ctx.job_id).toBe('job-2');
        expect(ctx.tenant_id).toBe('tenant_id-value');
      });
      expect(currentContext().actor).toBe('actor-value');
    });
    expect(currentContext()).toEqual({});
  });

  it('survives await, timers and event emitters', async () => {
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    const fromEmitter = new Promise<void>((resolve) =>
      emitter.on('tick', () => {
        seen.push(currentContext().tenant_id);
        resolve();
      }),
    );
    await withContext({ tenant_id: 'acme' }, async () => {
      await delay(1);
      seen.push(currentContext().tenant_id);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(currentContext().tenant_id);
          resolve();
        }, 1),
      );
      setImmediate(() => emitter.emit('tick'));
    });
    await fromEmitter;
    expect(seen).toEqual(['acme', 'acme', 'acme']);
  });

  it('keeps concurrent contexts apart', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c'].map((t) =>
        withContext({ tenant_id: t }, async () => {
          await delay(Math.random() * 5);
          return currentContext().tenant_id;
        }),
      ),
    );
    expect(results).toEqual(['a', 'b', 'c']);
  });

  it('omits empty and undefined values', () => {
    withContext({ tenant_id: '', actor: undefined, project_id: 'p1' }, () => {
      const ctx = currentContext();
      expect('tenant_id' in ctx).toBe(false);
      expect('actor' in ctx).toBe(false);
      expect(ctx.project_id).toBe('p1');
    });
  });
});
