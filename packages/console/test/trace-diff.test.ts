/** Two traces compared by service and span name: counts, time, what only one did, what failed in one only. */
import { describe, expect, it } from 'vitest';
import { diffTraces, type DiffSpan, type DiffTrace } from '../src/trace/trace-diff.js';

let next = 0;
const span = (service: string, name: string, ms: number, code = 'UNSET'): DiffSpan => ({ span_id: `s${next++}`, service, name, duration_ms: ms, status: { code } });
const trace = (id: string, durationMs: number, spans: DiffSpan[]): DiffTrace => ({ trace_id: id, duration_ms: durationMs, spans });

describe('diffTraces', () => {
  // A good evaluation against one that failed at SBOM compute and never reached the policy engine.
  const good = trace('a'.repeat(32), 2600, [
    span('orchestrator', 'api.jobs', 45),
    span('task-runner', 'http.client', 100),
    span('task-runner', 'http.client', 200),
    span('task-runner', 'http.client', 300),
    span('sbom-service', 'sbom.ingest', 3),
    span('policy-engine', 'policy.evaluate', 7),
  ]);
  const failed = trace('b'.repeat(32), 2300, [
    span('orchestrator', 'api.jobs', 53),
    span('task-runner', 'http.client', 177),
    span('sbom-service', 'sbom.ingest', 2, 'ERROR'),
    span('sbom-service', 'sbom.reject', 1),
  ]);
  const diff = diffTraces(good, failed);

  it('groups spans by service and name and counts and times each side', () => {
    const client = diff.groups.find((g) => g.key === 'task-runner http.client')!;
    expect(client.a).toEqual({ count: 3, totalMs: 600, maxMs: 300, errors: 0 });
    expect(client.b).toEqual({ count: 1, totalMs: 177, maxMs: 177, errors: 0 });
    expect(client.deltaMs).toBe(-423);
    expect(client.statusChanged).toBe(false);
    // The largest change of time first.
    expect(diff.groups[0]!.key).toBe('task-runner http.client');
    expect(diff.groups.map((g) => g.key)).toHaveLength(5);
  });

  it('lists what only one trace did and where the errors differ', () => {
    expect(diff.onlyInA.map((g) => g.key)).toEqual(['policy-engine policy.evaluate']);
    expect(diff.onlyInB.map((g) => g.key)).toEqual(['sbom-service sbom.reject']);
    expect(diff.statusDifferences.map((g) => [g.key, g.a!.errors, g.b!.errors])).toEqual([['sbom-service sbom.ingest', 0, 1]]);
    // A group only one side has is not a status difference.
    expect(diff.onlyInA[0]!.statusChanged).toBe(false);
  });

  it('gives the total duration delta, B minus A, and relative to A', () => {
    expect(diff.a).toEqual({ traceId: 'a'.repeat(32), durationMs: 2600, spanCount: 6, errorCount: 0 });
    expect(diff.b).toMatchObject({ durationMs: 2300, spanCount: 4, errorCount: 1 });
    expect(diff.durationDeltaMs).toBe(-300);
    expect(diff.durationDeltaRatio).toBeCloseTo(-300 / 2600, 10);
    expect(diffTraces(trace('x', 0, []), trace('y', 5, [])).durationDeltaRatio).toBeNull();
  });

  it('finds nothing apart in a trace compared with itself, and counts a repeated span once', () => {
    const self = diffTraces(good, good);
    expect(self.onlyInA).toEqual([]);
    expect(self.onlyInB).toEqual([]);
    expect(self.statusDifferences).toEqual([]);
    expect(self.durationDeltaMs).toBe(0);
    expect(self.groups.every((g) => g.deltaMs === 0)).toBe(true);
    const twice = span('svc', 'op', 10);
    expect(diffTraces(trace('x', 10, [twice, twice]), trace('y', 10, [])).groups[0]!.a).toEqual({ count: 1, totalMs: 10, maxMs: 10, errors: 0 });
  });
});
