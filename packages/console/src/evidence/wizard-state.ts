/**
 * The Create Snapshot wizard's steps and their rules, apart from the page: choose the kind,
 * the resource, the case, review — each step checked before the next opens, any step already
 * reached open again from the step list. A link may prefill kind, resource and case; the wizard
 * then opens at the first step that still needs an answer. And what to do about each refusal
 * the service may answer to `POST /evidence/snapshot`.
 */
import { kindInfo, type EvidenceKind } from './evidence-types.js';

export const STEPS = ['kind', 'resource', 'case', 'review'] as const;
export type WizardStep = (typeof STEPS)[number];

export const STEP_LABELS: Record<WizardStep, string> = { kind: 'Kind', resource: 'Resource', case: 'Case', review: 'Review and create' };

export interface WizardState {
  step: WizardStep;
  kind: EvidenceKind | undefined;
  resourceId: string;
  caseId: string;
  /** The step whose problem is shown (after a refused "Next"). */
  attempted: WizardStep | undefined;
}

export type WizardAction =
  | { type: 'kind'; kind: EvidenceKind }
  | { type: 'resource'; resourceId: string }
  | { type: 'case'; caseId: string }
  | { type: 'next' }
  | { type: 'back' }
  | { type: 'go'; step: WizardStep };

/** The service's rule for case ids (and bundle ids). */
export const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a step cannot be left yet, or undefined when it can. */
export function stepProblem(state: Pick<WizardState, 'kind' | 'resourceId' | 'caseId'>, step: WizardStep): string | undefined {
  switch (step) {
    case 'kind':
      return kindInfo(state.kind) ? undefined : 'Choose what to snapshot.';
    case 'resource': {
      const id = state.resourceId.trim();
      if (id === '') return `Choose a recent ${kindInfo(state.kind)?.resourceType ?? 'resource'} or type its id.`;
      if (id.length > 512) return 'A resource id is at most 512 characters.';
      if (CONTROL.test(id)) return 'A resource id has no control characters.';
      return undefined;
    }
    case 'case': {
      const id = state.caseId.trim();
      if (id === '') return 'Name the case the bundle is filed under (legal holds apply per case).';
      if (!CASE_ID.test(id)) return 'A case id is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.';
      return undefined;
    }
    case 'review':
      return STEPS.slice(0, -1)
        .map((s) => stepProblem(state, s))
        .find((p) => p !== undefined);
  }
}

/** The last step that may be opened: every step before it is answered. */
export function furthestStep(state: Pick<WizardState, 'kind' | 'resourceId' | 'caseId'>): WizardStep {
  for (const step of STEPS) if (step !== 'review' && stepProblem(state, step)) return step;
  return 'review';
}

const indexOf = (step: WizardStep): number => STEPS.indexOf(step);

export function initialWizard(query: { kind?: string | undefined; resource_id?: string | undefined; case_id?: string | undefined }): WizardState {
  const kind = kindInfo(query.kind)?.kind;
  const values = { kind, resourceId: query.resource_id ?? '', caseId: query.case_id ?? '' };
  return { ...values, step: furthestStep(values), attempted: undefined };
}

export function wizardReducer(state: WizardState, action: WizardAction): WizardState {
  switch (action.type) {
    case 'kind':
      // Another kind's resource ids are not this kind's.
      return { ...state, kind: action.kind, resourceId: state.kind && state.kind !== action.kind ? '' : state.resourceId, attempted: undefined };
    case 'resource':
      return { ...state, resourceId: action.resourceId, attempted: undefined };
    case 'case':
      return { ...state, caseId: action.caseId, attempted: undefined };
    case 'next': {
      if (state.step === 'review') return state;
      if (stepProblem(state, state.step)) return { ...state, attempted: state.step };
      return { ...state, step: STEPS[indexOf(state.step) + 1]!, attempted: undefined };
    }
    case 'back':
      return indexOf(state.step) === 0 ? state : { ...state, step: STEPS[indexOf(state.step) - 1]!, attempted: undefined };
    case 'go':
      return indexOf(action.step) <= indexOf(furthestStep(state)) ? { ...state, step: action.step, attempted: undefined } : state;
  }
}

/** The body of `POST /evidence/snapshot`, once every step is answered. */
export function snapshotBody(state: WizardState): { kind: EvidenceKind; resource_id: string; case_id: string } | undefined {
  if (stepProblem(state, 'review') || !state.kind) return undefined;
  return { kind: state.kind, resource_id: state.resourceId.trim(), case_id: state.caseId.trim() };
}

/** What to do about a refused snapshot: the service's code (and field) → the step to fix and advice. */
export function snapshotAdvice(status: number, code: string | undefined, field: string | undefined): { step?: WizardStep; advice: string } {
  if (code === 'evidence.inputs_missing') {
    return { step: 'resource', advice: 'The service holds nothing about this resource: no attached artifacts and no timeline events. Check the id and the kind, or pick one of the recent resources.' };
  }
  if (code === 'evidence.id_invalid' || code === 'request.invalid') {
    const step: WizardStep = field?.includes('case_id') ? 'case' : field?.includes('resource_id') ? 'resource' : field?.includes('kind') ? 'kind' : 'review';
    return { step, advice: `The service refused the ${step === 'case' ? 'case id' : step === 'resource' ? 'resource id' : step === 'kind' ? 'kind' : 'request'}; correct it and create again.` };
  }
  if (code === 'evidence.exists' || status === 409) return { advice: 'A bundle with the same key was committed at the same moment; committed evidence is never replaced. Create again: a new bundle id is drawn each time.' };
  if (status === 403) return { advice: 'Creating a snapshot needs the stella:evidence:create scope on this tenant.' };
  if (status === 404) return { step: 'resource', advice: 'The service found no such resource in this tenant.' };
  if (code === 'evidence.keys_unavailable' || code === 'evidence.storage_unavailable' || code === 'evidence.timestamp_failed' || status === 503) {
    return { advice: 'The service could not sign or store the bundle right now; nothing was created. Try again shortly; the service log says more.' };
  }
  return { advice: 'Nothing was created.' };
}
