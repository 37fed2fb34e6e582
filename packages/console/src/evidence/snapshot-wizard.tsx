/**
 * The Create Snapshot wizard (CON-2, EVI-2): choose the kind, the resource — a recent one from
 * the tenant's timeline or a typed id — and the case, review, create (`POST /evidence/snapshot`),
 * then land on the new bundle with the service's verification. A refusal is shown as the service
 * explains it, with what to do and the step to fix.
 */
import { useEffect, useId, useReducer, useRef, type FormEvent } from 'react';
import { withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { useAction, when } from './evidence-ui.js';
import { KINDS, kindInfo, type Bundle, type BundleList, type KindInfo, type TimelineAnswer, type TimelineEventLite } from './evidence-types.js';
import { furthestStep, initialWizard, snapshotAdvice, snapshotBody, STEP_LABELS, stepProblem, STEPS, wizardReducer } from './wizard-state.js';

/** A resource the timeline names recently: its id, when, and a line about it. */
interface Recent {
  id: string;
  ts: string;
  summary: string;
}

function describe(kind: KindInfo, e: TimelineEventLite): string {
  const d = e.details;
  const s = (k: string): string | undefined => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  if (kind.kind === 'evaluation') return [s('verdict') ? `verdict ${s('verdict')}` : undefined, s('policy_version') ? `policy ${s('policy_version')}` : undefined, s('sbom_id') ? `SBOM ${s('sbom_id')}` : undefined].filter(Boolean).join(', ');
  if (kind.kind === 'job-capsule') return [s('type'), e.kind.replace(/^job\./, ''), s('error_code')].filter(Boolean).join(', ');
  return [s('evaluation_id') ? `evaluation ${s('evaluation_id')}` : undefined, s('sbom_id') ? `SBOM ${s('sbom_id')}` : undefined].filter(Boolean).join(', ');
}

/** The distinct resources of the events, newest first. */
export function recentResources(kind: KindInfo, events: readonly TimelineEventLite[]): Recent[] {
  const seen = new Map<string, Recent>();
  for (const e of events) {
    if (!e.resource_id || e.resource_type !== kind.resourceType || seen.has(e.resource_id)) continue;
    seen.set(e.resource_id, { id: e.resource_id, ts: e.ts, summary: describe(kind, e) });
  }
  return [...seen.values()].slice(0, 12);
}

export function SnapshotWizard({ query }: { query: Query }) {
  const { client, tenant, navigate } = useConsole();
  const id = useId();
  const [state, dispatch] = useReducer(wizardReducer, query, (q: Query) => initialWizard({ kind: q['kind'], resource_id: q['resource_id'], case_id: q['case_id'] }));
  const create = useAction<Bundle>();
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  const info = kindInfo(state.kind);

  const recent = useApi<TimelineAnswer>(info ? withQuery('/timeline', { kind: info.timelineKind, resource_type: info.resourceType, limit: 200 }) : undefined);
  const existing = useApi<BundleList>(withQuery('/evidence', { limit: 500 }));
  const cases = [...new Set(existing.data?.bundles.map((b) => b.case_id) ?? [])].sort();
  const snapshotsOfResource = existing.data?.bundles.filter((b) => b.kind === state.kind && b.resource_id === state.resourceId.trim()) ?? [];

  // Focus follows the step, so a keyboard or screen reader user starts on the new step's title.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [state.step]);

  const problem = state.attempted === state.step ? stepProblem(state, state.step) : undefined;
  const reachable = furthestStep(state);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (state.step !== 'review') {
      dispatch({ type: 'next' });
      return;
    }
    const body = snapshotBody(state);
    if (!body) return;
    const bundle = await create.run((signal) => client.request<Bundle>('POST', '/evidence/snapshot', { body, signal }));
    if (bundle) navigate({ page: 'bundle', bundleId: bundle.bundle_id, query: {} });
  };

  const advice = create.error ? snapshotAdvice(create.error.status, create.error.code, create.error.answer.field) : undefined;
  const problemId = `${id}-problem`;

  return (
    <>
      <div className="page-head">
        <h1>Create snapshot</h1>
        <p>
          Tenant <strong>{tenant}</strong> · gathers what the service holds about one resource into a signed, write-once evidence bundle ·{' '}
          <Link to={{ page: 'evidence', query: {} }} navigate={navigate}>
            all bundles
          </Link>
        </p>
      </div>

      <nav aria-label="Wizard steps" className="wizard-steps">
        <ol>
          {STEPS.map((step, i) => {
            const open = STEPS.indexOf(step) <= STEPS.indexOf(reachable);
            return (
              <li key={step} className={step === state.step ? 'current' : open ? 'reachable' : 'later'}>
                <button type="button" className="step-button" onClick={() => dispatch({ type: 'go', step })} disabled={!open} aria-current={step === state.step ? 'step' : undefined}>
                  <span className="step-number" aria-hidden="true">
                    {i + 1}
                  </span>{' '}
                  {STEP_LABELS[step]}
                </button>
              </li>
            );
          })}
        </ol>
      </nav>

      <form className="panel wizard" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={`${id}-step`}>
        <h2 id={`${id}-step`} ref={heading} tabIndex={-1}>
          Step {STEPS.indexOf(state.step) + 1} of {STEPS.length}: {STEP_LABELS[state.step]}
        </h2>

        {state.step === 'kind' ? (
          <fieldset aria-describedby={problem ? problemId : undefined}>
            <legend>What to snapshot</legend>
            {KINDS.map((k) => (
              <div className="choice" key={k.kind}>
                <input type="radio" id={`${id}-kind-${k.kind}`} name={`${id}-kind`} value={k.kind} checked={state.kind === k.kind} onChange={() => dispatch({ type: 'kind', kind: k.kind })} />
                <label htmlFor={`${id}-kind-${k.kind}`}>
                  <strong>{k.label}</strong> <span className="muted">— {k.holds}</span>
                </label>
              </div>
            ))}
          </fieldset>
        ) : null}

        {state.step === 'resource' && info ? (
          <ResourceStep
            info={info}
            value={state.resourceId}
            onChange={(resourceId) => dispatch({ type: 'resource', resourceId })}
            recent={recent.data ? recentResources(info, recent.data.events) : undefined}
            recentError={recent.error}
            describedBy={problem ? problemId : undefined}
            idBase={id}
          />
        ) : null}

        {state.step === 'case' ? (
          <div className="field wide">
            <label htmlFor={`${id}-case`}>Case id</label>
            <input
              id={`${id}-case`}
              list={`${id}-cases`}
              value={state.caseId}
              onChange={(e) => dispatch({ type: 'case', caseId: e.target.value })}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-case-help${problem ? ` ${problemId}` : ''}`}
            />
            <datalist id={`${id}-cases`}>
              {cases.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
            <p id={`${id}-case-help`} className="help">
              The case the bundle is filed under, e.g. an incident or audit number ({cases.length ? `this tenant has ${cases.length}: ${cases.slice(0, 5).join(', ')}${cases.length > 5 ? ', …' : ''}` : 'a new one is fine'}). A legal hold applies to a whole case.
            </p>
          </div>
        ) : null}

        {state.step === 'review' && info ? (
          <>
            <dl className="evidence-facts">
              <dt>Kind</dt>
              <dd>
                {info.label} <span className="muted">({info.holds})</span>
              </dd>
              <dt>Resource</dt>
              <dd>
                {info.resourceType}/<code>{state.resourceId.trim()}</code>
              </dd>
              <dt>Case</dt>
              <dd>
                <code>{state.caseId.trim()}</code>
              </dd>
              <dt>Tenant</dt>
              <dd>{tenant}</dd>
            </dl>
            {snapshotsOfResource.length ? (
              <p className="notice">
                This resource already has {snapshotsOfResource.length} {info.label.toLowerCase()}
                {snapshotsOfResource.length === 1 ? '' : 's'} (newest {when(snapshotsOfResource[0]!.created_at)}, case {snapshotsOfResource[0]!.case_id}); a new snapshot is another bundle, the earlier ones stay.
              </p>
            ) : null}
            <p className="muted">The service gathers the resource&apos;s attached artifacts, timeline events and decision records, signs the manifest with the tenant&apos;s key and commits the bundle write-once.</p>
          </>
        ) : null}

        {problem ? (
          <p id={problemId} className="field-problem" role="alert">
            {problem}
          </p>
        ) : null}

        {create.error && advice ? (
          <div className="wizard-refusal">
            <ErrorPanel error={create.error} what="the snapshot was not created" />
            <p>
              {advice.advice}
              {advice.step && advice.step !== state.step ? (
                <>
                  {' '}
                  <button type="button" className="small" onClick={() => dispatch({ type: 'go', step: advice.step! })}>
                    Go to {STEP_LABELS[advice.step].toLowerCase()}
                  </button>
                </>
              ) : null}
            </p>
          </div>
        ) : null}

        <div className="wizard-buttons">
          <button type="button" className="secondary" onClick={() => dispatch({ type: 'back' })} disabled={state.step === 'kind' || create.busy}>
            Back
          </button>
          {state.step === 'review' ? (
            <button type="submit" disabled={create.busy}>
              {create.busy ? 'Creating and signing…' : 'Create snapshot'}
            </button>
          ) : (
            <button type="submit">Next</button>
          )}
          <span role="status" className="muted">
            {create.busy ? 'The service is gathering, signing and committing the bundle…' : ''}
          </span>
        </div>
      </form>
    </>
  );
}

function ResourceStep({
  info,
  value,
  onChange,
  recent,
  recentError,
  describedBy,
  idBase,
}: {
  info: KindInfo;
  value: string;
  onChange(value: string): void;
  recent: Recent[] | undefined;
  recentError: { status: number; answer: { required_scope?: string } } | undefined;
  describedBy: string | undefined;
  idBase: string;
}) {
  const typed = recent?.every((r) => r.id !== value) ?? true;
  return (
    <>
      <fieldset>
        <legend>Recent {info.resourceType}s on the timeline</legend>
        {recentError ? (
          <p className="muted">
            The timeline cannot be read with this token ({recentError.answer.required_scope ? `it needs ${recentError.answer.required_scope}` : `HTTP ${recentError.status}`}); type the id below.
          </p>
        ) : !recent ? (
          <p className="muted">Loading recent {info.resourceType}s…</p>
        ) : recent.length === 0 ? (
          <p className="empty">
            No {info.timelineKind} events on this tenant&apos;s timeline; type the {info.resourceType} id below.
          </p>
        ) : (
          <div className="choices">
            {recent.map((r) => (
              <div className="choice" key={r.id}>
                <input type="radio" id={`${idBase}-res-${r.id}`} name={`${idBase}-recent`} value={r.id} checked={value === r.id} onChange={() => onChange(r.id)} />
                <label htmlFor={`${idBase}-res-${r.id}`}>
                  <code>{r.id}</code> <span className="muted">— {when(r.ts)}{r.summary ? `, ${r.summary}` : ''}</span>
                </label>
              </div>
            ))}
          </div>
        )}
      </fieldset>
      <div className="field wide">
        <label htmlFor={`${idBase}-resource`}>{info.resourceType[0]!.toUpperCase() + info.resourceType.slice(1)} id</label>
        <input
          id={`${idBase}-resource`}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={describedBy ? true : undefined}
          aria-describedby={describedBy}
          placeholder={typed ? `or type a ${info.resourceType} id` : undefined}
        />
      </div>
    </>
  );
}
