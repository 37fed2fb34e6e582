/**
 * Two traces compared span name by span name: spans are grouped by service and name (the same
 * operation in both runs), and each group is counted, timed and checked for errors in A and in
 * B. What only one trace did, what failed in one but not the other, and where the time went
 * apart are read from those groups.
 */

/** What the comparison reads of a span of `GET /obs/trace/:id`. */
export interface DiffSpan {
  span_id: string;
  name: string;
  service: string;
  duration_ms: number;
  status: { code: string };
}

export interface DiffTrace {
  trace_id: string;
  duration_ms: number;
  spans: readonly DiffSpan[];
}

export interface GroupStats {
  count: number;
  /** Sum of the group's span durations. */
  totalMs: number;
  maxMs: number;
  errors: number;
}

export interface SpanGroupDiff {
  /** `service name`. */
  key: string;
  service: string;
  name: string;
  a: GroupStats | undefined;
  b: GroupStats | undefined;
  /** B's total minus A's (a missing side counts 0). */
  deltaMs: number;
  /** The groups' error counts differ. */
  statusChanged: boolean;
}

export interface TraceSide {
  traceId: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
}

export interface TraceDiff {
  a: TraceSide;
  b: TraceSide;
  /** B's duration minus A's. */
  durationDeltaMs: number;
  /** That delta relative to A (null when A took no time). */
  durationDeltaRatio: number | null;
  /** Every group, the largest change of total time first. */
  groups: SpanGroupDiff[];
  onlyInA: SpanGroupDiff[];
  onlyInB: SpanGroupDiff[];
  /** Groups in both traces whose error counts differ. */
  statusDifferences: SpanGroupDiff[];
}

const isError = (s: DiffSpan): boolean => s.status.code === 'ERROR';

function group(spans: readonly DiffSpan[]): Map<string, { service: string; name: string; stats: GroupStats }> {
  const groups = new Map<string, { service: string; name: string; stats: GroupStats }>();
  const seen = new Set<string>();
  for (const s of spans) {
    if (seen.has(s.span_id)) continue;
    seen.add(s.span_id);
    const key = `${s.service} ${s.name}`;
    const g = groups.get(key) ?? { service: s.service, name: s.name, stats: { count: 0, totalMs: 0, maxMs: 0, errors: 0 } };
    const ms = Number.isFinite(s.duration_ms) ? Math.max(s.duration_ms, 0) : 0;
    g.stats.count++;
    g.stats.totalMs += ms;
    g.stats.maxMs = Math.max(g.stats.maxMs, ms);
    if (isError(s)) g.stats.errors++;
    groups.set(key, g);
  }
  return groups;
}

const side = (t: DiffTrace): TraceSide => {
  const ids = new Set(t.spans.map((s) => s.span_id));
  return { traceId: t.trace_id, durationMs: t.duration_ms, spanCount: ids.size, errorCount: new Set(t.spans.filter(isError).map((s) => s.span_id)).size };
};

export function diffTraces(a: DiffTrace, b: DiffTrace): TraceDiff {
  const ga = group(a.spans);
  const gb = group(b.spans);
  const groups: SpanGroupDiff[] = [];
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const inA = ga.get(key);
    const inB = gb.get(key);
    const sa = inA?.stats;
    const sb = inB?.stats;
    groups.push({
      key,
      service: (inA ?? inB)!.service,
      name: (inA ?? inB)!.name,
      a: sa,
      b: sb,
      deltaMs: (sb?.totalMs ?? 0) - (sa?.totalMs ?? 0),
      statusChanged: sa !== undefined && sb !== undefined && sa.errors !== sb.errors,
    });
  }
  groups.sort((x, y) => Math.abs(y.deltaMs) - Math.abs(x.deltaMs) || x.service.localeCompare(y.service) || x.name.localeCompare(y.name));
  const durationDeltaMs = b.duration_ms - a.duration_ms;
  return {
    a: side(a),
    b: side(b),
    durationDeltaMs,
    durationDeltaRatio: a.duration_ms > 0 ? durationDeltaMs / a.duration_ms : null,
    groups,
    onlyInA: groups.filter((g) => g.a && !g.b),
    onlyInB: groups.filter((g) => g.b && !g.a),
    statusDifferences: groups.filter((g) => g.statusChanged),
  };
}
