/** The Create Snapshot wizard's steps: prefilled links, checks before each next step, jumps back, the request body and advice on refusals. */
import { describe, expect, it } from 'vitest';
import { furthestStep, initialWizard, snapshotAdvice, snapshotBody, stepProblem, wizardReducer, type WizardAction, type WizardState } from '../src/evidence/wizard-state.js';

const run = (state: WizardState, ...actions: WizardAction[]): WizardState => actions.reduce(wizardReducer, state);

describe('the Create Snapshot wizard', () => {
  it('starts at the kind, and a prefilled link at the first step still unanswered', () => {
    expect(initialWizard({}).step).toBe('kind');
    expect(initialWizard({ kind: 'evaluation' }).step).toBe('resource');
    expect(initialWizard({ kind: 'job-capsule', resource_id: 'job-1' }).step).toBe('case');
    expect(initialWizard({ kind: 'export', resource_id: 'exp-1', case_id: 'case-7' })).toMatchObject({ step: 'review', kind: 'export', resourceId: 'exp-1', caseId: 'case-7' });
    // An unknown kind is no answer.
    expect(initialWizard({ kind: 'sbom', resource_id: 'x', case_id: 'c' })).toMatchObject({ step: 'kind', kind: undefined });
  });

  it('goes forward only when the step is answered, and shows why not', () => {
    let s = run(initialWizard({}), { type: 'next' });
    expect(s).toMatchObject({ step: 'kind', attempted: 'kind' });
    expect(stepProblem(s, 'kind')).toBe('Choose what to snapshot.');
    s = run(s, { type: 'kind', kind: 'evaluation' }, { type: 'next' });
    expect(s).toMatchObject({ step: 'resource', attempted: undefined });
    s = run(s, { type: 'next' });
    expect(s.attempted).toBe('resource');
    expect(stepProblem(s, 'resource')).toBe('Choose a recent evaluation or type its id.');
    s = run(s, { type: 'resource', resourceId: ' eval-0123 ' }, { type: 'next' }, { type: 'case', caseId: 'bad case' }, { type: 'next' });
    expect(s).toMatchObject({ step: 'case', attempted: 'case' });
    expect(stepProblem(s, 'case')).toMatch(/letters, digits/);
    s = run(s, { type: 'case', caseId: 'INC-42' }, { type: 'next' });
    expect(s.step).toBe('review');
    expect(snapshotBody(s)).toEqual({ kind: 'evaluation', resource_id: 'eval-0123', case_id: 'INC-42' });
    expect(run(s, { type: 'next' })).toBe(s);
  });

  it('goes back a step, or to any step already reachable, never past an unanswered one', () => {
    const s = run(initialWizard({ kind: 'evaluation', resource_id: 'e-1', case_id: 'c-1' }), { type: 'back' });
    expect(s.step).toBe('case');
    expect(run(s, { type: 'go', step: 'kind' }).step).toBe('kind');
    expect(run(s, { type: 'go', step: 'review' }).step).toBe('review');
    const fresh = run(initialWizard({}), { type: 'kind', kind: 'export' });
    expect(run(fresh, { type: 'go', step: 'case' }).step).toBe('kind');
    expect(run(fresh, { type: 'go', step: 'resource' }).step).toBe('resource');
    expect(run(initialWizard({}), { type: 'back' }).step).toBe('kind');
  });

  it("forgets the resource when the kind changes (another kind's ids are not this kind's)", () => {
    const s = run(initialWizard({ kind: 'evaluation', resource_id: 'eval-1' }), { type: 'kind', kind: 'job-capsule' });
    expect(s.resourceId).toBe('');
    expect(furthestStep(s)).toBe('resource');
    expect(run(initialWizard({ kind: 'evaluation', resource_id: 'eval-1' }), { type: 'kind', kind: 'evaluation' }).resourceId).toBe('eval-1');
  });

  it('checks resource ids the way the service does', () => {
    const base = { kind: 'evaluation' as const, caseId: 'c' };
    expect(stepProblem({ ...base, resourceId: 'x'.repeat(513) }, 'resource')).toBe('A resource id is at most 512 characters.');
    expect(stepProblem({ ...base, resourceId: 'a\nb' }, 'resource')).toBe('A resource id has no control characters.');
    expect(stepProblem({ ...base, resourceId: 'pkg:npm/x@1 with spaces' }, 'resource')).toBeUndefined();
    expect(snapshotBody(initialWizard({ kind: 'evaluation', resource_id: 'e' }))).toBeUndefined();
  });

  it("says what to do about each of the service's refusals, and which step to fix", () => {
    expect(snapshotAdvice(422, 'evidence.inputs_missing', 'body.resource_id')).toMatchObject({ step: 'resource', advice: expect.stringMatching(/holds nothing about this resource/) });
    expect(snapshotAdvice(400, 'evidence.id_invalid', 'body.case_id')).toMatchObject({ step: 'case' });
    expect(snapshotAdvice(400, 'request.invalid', 'body.resource_id')).toMatchObject({ step: 'resource' });
    expect(snapshotAdvice(409, 'evidence.exists', undefined).advice).toMatch(/never replaced/);
    expect(snapshotAdvice(403, 'auth.scope_missing', undefined).advice).toMatch(/stella:evidence:create/);
    expect(snapshotAdvice(404, 'evidence.not_found', undefined)).toMatchObject({ step: 'resource' });
    expect(snapshotAdvice(503, 'evidence.keys_unavailable', undefined).advice).toMatch(/nothing was created/);
  });
});
