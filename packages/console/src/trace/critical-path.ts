/**
 * The critical path of a trace: the spans whose time the trace's end waited on. From the root,
 * the child that ends last — and ends within its parent — is on the path; the walk descends into
 * it, then goes on in the parent with the child that ended last before that one started (work
 * done one after the other is all on the path; work alongside it is not).
 *
 * A child that ends after its parent is work the parent did not wait for (a job it queued), so it
 * is not on the parent's path. When the trace outlasts its root because of such work, the walk
 * goes on from the detached span that ended last (a span ending after its parent, or whose
 * parent was not received): that is what the trace's end waited on. Times are nanosecond strings,
 * compared as BigInt.
 *
 * Two measurement effects are allowed for. A server span often ends a little after its client
 * span got the answer (it ends when its response is flushed, and the client may already have
 * read it): a SERVER child of a CLIENT span is the call the client waited for, so it counts as
 * ending by its parent's end. And spans come from several processes, some of whose SDKs cut start
 * times to the millisecond: a child that ends up to `SKEW_MS` after its parent (or the next span
 * on the path) is taken to have ended within it.
 */
import type { WaterfallSpan } from './waterfall.js';

/** What the walk reads of a span: the waterfall's fields and, when known, its kind (`SERVER`, `CLIENT`, …). */
export type PathSpan = WaterfallSpan & { kind?: string };

/** How far a child may end after its parent and still count as within it. */
export const SKEW_MS = 1;
const SKEW_NS = BigInt(SKEW_MS) * 1_000_000n;

export interface CriticalPath {
  /** Span ids on the path, in walk order (each span before the spans it waited on). */
  spanIds: string[];
  /** Where each walk started: the root, then the detached span that ended last, if the trace outlasts its root. */
  starts: string[];
}

function nanos(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    return 0n;
  }
}

export function criticalPath(spans: readonly PathSpan[]): CriticalPath {
  if (spans.length === 0) return { spanIds: [], starts: [] };
  const byId = new Map<string, PathSpan>();
  for (const s of spans) if (!byId.has(s.span_id)) byId.set(s.span_id, s);
  const parentOf = (s: WaterfallSpan): PathSpan | undefined => (s.parent_span_id !== null && s.parent_span_id !== s.span_id ? byId.get(s.parent_span_id) : undefined);
  const start = new Map([...byId.values()].map((s) => [s.span_id, nanos(s.start_time_unix_nano)]));
  const end = new Map([...byId.values()].map((s) => [s.span_id, nanos(s.end_time_unix_nano)]));
  // The call a client span waited for ends, for the walk, by the client's end.
  for (const s of byId.values()) {
    const parent = parentOf(s);
    if (parent && s.kind === 'SERVER' && parent.kind === 'CLIENT' && end.get(s.span_id)! > nanos(parent.end_time_unix_nano)) end.set(s.span_id, nanos(parent.end_time_unix_nano));
  }
  const children = new Map<string, WaterfallSpan[]>();
  for (const s of byId.values()) {
    const parent = parentOf(s);
    if (!parent) continue;
    const list = children.get(parent.span_id) ?? [];
    list.push(s);
    children.set(parent.span_id, list);
  }
  // Latest end first; on a tie the earlier start (the longer span), then the id, so the walk is stable.
  const later = (a: WaterfallSpan, b: WaterfallSpan): number => {
    const d = end.get(b.span_id)! - end.get(a.span_id)!;
    if (d !== 0n) return d > 0n ? 1 : -1;
    const s = start.get(a.span_id)! - start.get(b.span_id)!;
    if (s !== 0n) return s > 0n ? 1 : -1;
    return a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0;
  };
  for (const list of children.values()) list.sort(later);

  const onPath = new Set<string>();
  const spanIds: string[] = [];
  const walk = (first: WaterfallSpan): void => {
    const stack: WaterfallSpan[] = [first];
    while (stack.length > 0) {
      const span = stack.pop()!;
      if (onPath.has(span.span_id)) continue; // a parent loop
      onPath.add(span.span_id);
      spanIds.push(span.span_id);
      // The chain of children this span waited on, latest first: each ends before the previous one started.
      const chain: WaterfallSpan[] = [];
      let until = end.get(span.span_id)!;
      for (const child of children.get(span.span_id) ?? []) {
        if (end.get(child.span_id)! <= until + SKEW_NS && !onPath.has(child.span_id)) {
          chain.push(child);
          until = start.get(child.span_id)!;
        }
      }
      // Depth first, the latest child's subtree before the earlier ones.
      for (let i = chain.length - 1; i >= 0; i--) stack.push(chain[i]!);
    }
  };

  const all = [...byId.values()];
  const byStart = (a: WaterfallSpan, b: WaterfallSpan): number => {
    const d = start.get(a.span_id)! - start.get(b.span_id)!;
    return d !== 0n ? (d > 0n ? 1 : -1) : later(a, b);
  };
  const roots = all.filter((s) => s.parent_span_id === null || s.parent_span_id === s.span_id).sort(byStart);
  const root = roots[0] ?? all.filter((s) => !parentOf(s)).sort(byStart)[0] ?? [...all].sort(byStart)[0]!;
  const starts = [root.span_id];
  walk(root);

  // The trace outlasts its path: go on from the detached span that ended last.
  const reached = spanIds.reduce((max, id) => (end.get(id)! > max ? end.get(id)! : max), end.get(root.span_id)!);
  const detached = all
    .filter((s) => {
      if (onPath.has(s.span_id) || end.get(s.span_id)! <= reached + SKEW_NS) return false;
      const parent = parentOf(s);
      return !parent || end.get(s.span_id)! > end.get(parent.span_id)! + SKEW_NS;
    })
    .sort(later)[0];
  if (detached) {
    starts.push(detached.span_id);
    walk(detached);
  }
  return { spanIds, starts };
}
