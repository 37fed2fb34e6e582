/** The critical path: from the root, the child that ends last within its parent, then the work before it; detached work that outlasts the root. */
import { describe, expect, it } from 'vitest';
import { criticalPath, type PathSpan } from '../src/trace/critical-path.js';

const T0 = 1_700_000_000_000_000_000n;

function span(id: string, parent: string | null, startMs: number, endMs: number, kind?: string): PathSpan {
  const at = (ms: number) => (T0 + BigInt(Math.round(ms * 1e6))).toString();
  return { span_id: id, parent_span_id: parent, start_time_unix_nano: at(startMs), end_time_unix_nano: at(endMs), status: { code: 'UNSET' }, kind };
}

describe('criticalPath', () => {
  it('follows, from the root, the child that ends last, down to a leaf', () => {
    // root ─┬─ a (10-40) ─ a1 (15-35)
    //       └─ b (20-90) ─┬─ b1 (25-50)
    //                     └─ b2 (30-85)
    const path = criticalPath([span('root', null, 0, 100), span('a', 'root', 10, 40), span('a1', 'a', 15, 35), span('b', 'root', 20, 90), span('b1', 'b', 25, 50), span('b2', 'b', 30, 85)]);
    // a and b1 ran alongside b and b2: the root waited on b, b on b2.
    expect(path.spanIds).toEqual(['root', 'b', 'b2']);
    expect(path.starts).toEqual(['root']);
  });

  it('puts work done one after the other on the path, each step before the work it waited on', () => {
    // Three sequential calls; the second had a child; a parallel call overlaps the third.
    const path = criticalPath([
      span('job', null, 0, 100),
      span('fetch', 'job', 0, 20),
      span('compute', 'job', 20, 60),
      span('compute.db', 'compute', 30, 55),
      span('side', 'job', 50, 70),
      span('export', 'job', 62, 98),
    ]);
    expect(path.spanIds).toEqual(['job', 'export', 'compute', 'compute.db', 'fetch']);
  });

  it('leaves out a child that ends after its parent, whatever its length', () => {
    const path = criticalPath([span('root', null, 0, 100), span('parent', 'root', 0, 50), span('late', 'parent', 10, 60), span('inside', 'parent', 5, 40)]);
    // The root waited on parent (ends within it); parent did not wait on late, which outlived it.
    expect(path.spanIds).toEqual(['root', 'parent', 'inside']);
  });

  it('goes on from the detached span that ended last when the trace outlasts its root (a queued job)', () => {
    // The request answers in 10 ms; the job it queued runs to 500 ms in two steps.
    const path = criticalPath([
      span('request', null, 0, 10),
      span('schedule', 'request', 1, 9),
      span('runner', 'schedule', 8, 500),
      span('step1', 'runner', 10, 200),
      span('step2', 'runner', 200, 490),
      span('shortjob', 'schedule', 8, 30),
    ]);
    expect(path.starts).toEqual(['request', 'runner']);
    expect(path.spanIds).toEqual(['request', 'schedule', 'runner', 'step2', 'step1']);
  });

  it("takes a child of another process that ends less than a millisecond after its parent as within it (clock skew)", () => {
    // The runner's last call: the orchestrator's server span ends 0.3 ms after the runner's client span, by the orchestrator's clock.
    const path = criticalPath([
      span('request', null, 0, 10),
      span('runner', 'request', 5, 100),
      span('call', 'runner', 80, 99.9),
      span('server', 'call', 81, 100.2),
      span('late', 'runner', 20, 106),
    ]);
    expect(path.spanIds).toEqual(['request', 'late']);
    expect(path.starts).toEqual(['request', 'late']);
    const skewed = criticalPath([span('request', null, 0, 100), span('call', 'request', 80, 99.9), span('server', 'call', 81, 100.2)]);
    expect(skewed.spanIds).toEqual(['request', 'call', 'server']);
    expect(skewed.starts).toEqual(['request']);
  });

  it('counts the server span of a client call as waited for, even when it ends well after the client got the answer', () => {
    // The server ended 8 ms after its client (it ends when the response is flushed): still the call the runner waited on.
    const spans = [span('runner', null, 0, 200), span('call', 'runner', 10, 174, 'CLIENT'), span('server', 'call', 12, 182, 'SERVER'), span('db', 'server', 20, 170, 'CLIENT')];
    expect(criticalPath(spans)).toEqual({ spanIds: ['runner', 'call', 'server', 'db'], starts: ['runner'] });
    // Without the kinds the same server span outlives its parent, so it is not on the path (and the trace does not outlast the runner).
    const untyped = spans.map(({ kind: _kind, ...s }) => s);
    expect(criticalPath(untyped)).toEqual({ spanIds: ['runner', 'call'], starts: ['runner'] });
    // A consumer under a producer is not a call: a message handled after the send ended is detached.
    expect(criticalPath([span('send', null, 0, 5, 'PRODUCER'), span('handle', 'send', 3, 50, 'CONSUMER')]).starts).toEqual(['send', 'handle']);
  });

  it('starts from the span without a parent that started first, else from the earliest orphan', () => {
    expect(criticalPath([span('late-root', null, 50, 60), span('root', null, 0, 100), span('c', 'root', 10, 90)]).spanIds).toEqual(['root', 'c']);
    // The root was not received: its children are orphans.
    expect(criticalPath([span('o2', 'missing', 20, 30), span('o1', 'missing', 0, 40), span('o1c', 'o1', 5, 35)]).spanIds).toEqual(['o1', 'o1c']);
  });

  it('picks the longer child on an equal end, keeps nanosecond order past 2^53, and survives loops and duplicates', () => {
    expect(criticalPath([span('r', null, 0, 10), span('short', 'r', 5, 10), span('long', 'r', 1, 10)]).spanIds).toEqual(['r', 'long']);
    // y ends 1 ns after x: it is the one the root waited on; x overlaps y by less than the clock tolerance, so it counts as before it.
    const fine = criticalPath([span('r', null, 0, 0.000010), span('x', 'r', 0.000001, 0.000008), span('y', 'r', 0.000002, 0.000009)]);
    expect(fine.spanIds).toEqual(['r', 'y', 'x']);
    const loop = criticalPath([span('p', 'q', 0, 10), span('q', 'p', 1, 9)]);
    expect(new Set(loop.spanIds).size).toBe(loop.spanIds.length);
    expect(criticalPath([span('a', null, 0, 10), span('a', null, 0, 10)]).spanIds).toEqual(['a']);
    expect(criticalPath([])).toEqual({ spanIds: [], starts: [] });
  });
});
