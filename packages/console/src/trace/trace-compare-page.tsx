/**
 * Two traces side by side (`?a=&b=`): their facts and the total duration delta, then every span
 * name (service and name) with its count, time and errors in A and in B — what only one trace
 * did, what failed in one but not the other, where the time went apart. Without both ids, a form
 * asks for them.
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import type { TraceAnswer } from '../api/api-types.js';
import { traceIdInput } from '../api/traceparent.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime, formatMs, formatPercent } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { diffTraces, type GroupStats, type SpanGroupDiff, type TraceDiff } from './trace-diff.js';
import './trace.css';

function Delta({ ms, ratio }: { ms: number; ratio?: number | null }) {
  if (ms === 0) return <span>no change</span>;
  const sign = ms > 0 ? '+' : '−';
  return (
    <span className={ms > 0 ? 'delta-worse' : 'delta-better'}>
      {sign}
      {formatMs(Math.abs(ms))}
      {ratio !== undefined && ratio !== null ? ` (${sign}${formatPercent(Math.abs(ratio))})` : ''}
      <span className="visually-hidden">{ms > 0 ? ' slower in B' : ' faster in B'}</span>
    </span>
  );
}

const stats = (s: GroupStats | undefined): string => (s ? `${s.count} × ${formatMs(s.totalMs)}` : '–');
const errors = (s: GroupStats | undefined): string => (s ? String(s.errors) : '–');

function groupLabel(g: SpanGroupDiff): string {
  if (!g.a) return 'only in B';
  if (!g.b) return 'only in A';
  if (g.statusChanged) return 'errors differ';
  return '';
}

function GroupList({ groups, empty }: { groups: SpanGroupDiff[]; empty: string }) {
  if (groups.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul>
      {groups.map((g) => (
        <li key={g.key}>
          <strong>{g.name}</strong> <span className="muted">({g.service})</span>
          {g.a && g.b ? ` — errors ${g.a.errors} in A, ${g.b.errors} in B` : ` — ${stats(g.a ?? g.b)}`}
        </li>
      ))}
    </ul>
  );
}

function Comparison({ a, b, diff }: { a: TraceAnswer; b: TraceAnswer; diff: TraceDiff }) {
  const { navigate } = useConsole();
  return (
    <>
      <section className="panel" aria-labelledby="compare-summary">
        <h2 id="compare-summary">The two traces</h2>
        <table className="compare-summary">
          <caption className="visually-hidden">Trace A and trace B, and what changed from A to B</caption>
          <thead>
            <tr>
              <td />
              <th scope="col">A</th>
              <th scope="col">B</th>
              <th scope="col">B − A</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Trace</th>
              {[a, b].map((t) => (
                <td key={t.trace_id}>
                  <Link to={{ page: 'trace', traceId: t.trace_id, query: { from: 'compare' } }} navigate={navigate}>
                    <code>{t.trace_id}</code>
                  </Link>
                </td>
              ))}
              <td />
            </tr>
            <tr>
              <th scope="row">Started</th>
              <td>{formatDateTime(a.start_time)}</td>
              <td>{formatDateTime(b.start_time)}</td>
              <td />
            </tr>
            <tr>
              <th scope="row">Duration</th>
              <td className="num">{formatMs(a.duration_ms)}</td>
              <td className="num">{formatMs(b.duration_ms)}</td>
              <td className="num" data-testid="duration-delta">
                <Delta ms={diff.durationDeltaMs} ratio={diff.durationDeltaRatio} />
              </td>
            </tr>
            <tr>
              <th scope="row">Spans</th>
              <td className="num">{diff.a.spanCount}</td>
              <td className="num">{diff.b.spanCount}</td>
              <td className="num">{diff.b.spanCount - diff.a.spanCount >= 0 ? '+' : '−'}{Math.abs(diff.b.spanCount - diff.a.spanCount)}</td>
            </tr>
            <tr>
              <th scope="row">Error spans</th>
              <td className="num">{diff.a.errorCount}</td>
              <td className="num">{diff.b.errorCount}</td>
              <td className="num">{diff.b.errorCount - diff.a.errorCount >= 0 ? '+' : '−'}{Math.abs(diff.b.errorCount - diff.a.errorCount)}</td>
            </tr>
            <tr>
              <th scope="row">Services</th>
              <td>{a.services.join(', ')}</td>
              <td>{b.services.join(', ')}</td>
              <td />
            </tr>
          </tbody>
        </table>
      </section>
      <section className="panel" aria-labelledby="compare-differences">
        <h2 id="compare-differences">What differs</h2>
        <div className="diff-lists">
          <div>
            <h3>Only in A</h3>
            <GroupList groups={diff.onlyInA} empty="Every span name of A is also in B." />
          </div>
          <div>
            <h3>Only in B</h3>
            <GroupList groups={diff.onlyInB} empty="Every span name of B is also in A." />
          </div>
          <div>
            <h3>Status differences</h3>
            <GroupList groups={diff.statusDifferences} empty="The span names both traces have failed alike." />
          </div>
        </div>
      </section>
      <section className="panel" aria-labelledby="compare-spans">
        <h2 id="compare-spans">Spans by service and name</h2>
        <p className="muted">Count × total time in each trace; the largest change of time first.</p>
        <table className="span-diff">
          <caption className="visually-hidden">Spans of A and B grouped by service and name</caption>
          <thead>
            <tr>
              <th scope="col">Span name</th>
              <th scope="col">Service</th>
              <th scope="col">A</th>
              <th scope="col">B</th>
              <th scope="col">Time B − A</th>
              <th scope="col">Errors A</th>
              <th scope="col">Errors B</th>
              <th scope="col">Difference</th>
            </tr>
          </thead>
          <tbody>
            {diff.groups.map((g) => (
              <tr key={g.key} className={!g.a ? 'only-b' : !g.b ? 'only-a' : g.statusChanged ? 'status-changed' : undefined}>
                <th scope="row">{g.name}</th>
                <td>{g.service}</td>
                <td className="num">{stats(g.a)}</td>
                <td className="num">{stats(g.b)}</td>
                <td className="num">
                  <Delta ms={g.deltaMs} />
                </td>
                <td className="num">{errors(g.a)}</td>
                <td className="num">{errors(g.b)}</td>
                <td>{groupLabel(g) ? <strong>{groupLabel(g)}</strong> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function ChooseTraces({ a, b }: { a: string | undefined; b: string | undefined }) {
  const { navigate } = useConsole();
  const id = useId();
  const [texts, setTexts] = useState({ a: a ?? '', b: b ?? '' });
  const [problem, setProblem] = useState<string>();
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const ta = traceIdInput(texts.a);
    const tb = traceIdInput(texts.b);
    if (!ta || !tb) {
      setProblem('Each trace id is 32 hexadecimal characters (or paste a whole traceparent).');
      return;
    }
    setProblem(undefined);
    navigate({ page: 'trace-compare', query: { a: ta, b: tb } });
  };
  return (
    <form className="compare-form panel" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-a`}>Trace A</label>
        <input id={`${id}-a`} value={texts.a} onChange={(e) => setTexts({ ...texts, a: e.target.value })} autoComplete="off" spellCheck={false} aria-invalid={problem ? true : undefined} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-b`}>Trace B</label>
        <input id={`${id}-b`} value={texts.b} onChange={(e) => setTexts({ ...texts, b: e.target.value })} autoComplete="off" spellCheck={false} aria-invalid={problem ? true : undefined} />
      </div>
      <div className="field">
        <button type="submit">Compare</button>
      </div>
      {problem ? (
        <p className="field-problem" role="alert">
          {problem}
        </p>
      ) : null}
      <p className="muted guardrails">
        Or tick <em>Compare</em> on two results of <Link to={{ page: 'traces', query: {} }} navigate={navigate}>trace search</Link>.
      </p>
    </form>
  );
}

export function TraceComparePage({ query }: { query: Query }) {
  const a = query['a']?.toLowerCase();
  const b = query['b']?.toLowerCase();
  const traceA = useApi<TraceAnswer>(a ? `/obs/trace/${encodeURIComponent(a)}` : undefined);
  const traceB = useApi<TraceAnswer>(b ? `/obs/trace/${encodeURIComponent(b)}` : undefined);
  const diff = useMemo(() => (traceA.data && traceB.data ? diffTraces(traceA.data, traceB.data) : undefined), [traceA.data, traceB.data]);
  return (
    <>
      <div className="page-head">
        <h1>Compare traces</h1>
      </div>
      {!a || !b ? <ChooseTraces a={a} b={b} /> : null}
      {traceA.error ? <ErrorPanel error={traceA.error} what="trace A" /> : null}
      {traceB.error ? <ErrorPanel error={traceB.error} what="trace B" /> : null}
      {a && b && !diff && !traceA.error && !traceB.error ? <p className="muted">Loading both traces…</p> : null}
      {diff && traceA.data && traceB.data ? <Comparison a={traceA.data} b={traceB.data} diff={diff} /> : null}
    </>
  );
}
