/**
 * The Forensics Explorer's timeline on the demo's data: acme's real events and only acme's, each
 * filter narrowing them, the service's 400 and 403 explanations, the three canned filters
 * against what the demo recorded (the partner feed's failed job, the evaluation's decisions),
 * ±N context around an event, saved filters per user, and the "Why is this red?" links.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { expect, it } from 'vitest';
import type { EventDetailAnswer, TimelineEvent, TimelinePageAnswer } from '../../src/forensics/timeline-types.js';
import { ARTIFACTS, ROOT } from './browser-kit.js';
import { USER_SCOPES, type DemoConsole } from './demo-console.js';

/** Screenshots the docs show, copied from ARTIFACTS when STELLA_UPDATE_DOC_IMAGES=1. */
const DOC_IMAGES = join(ROOT, 'docs/images');

async function screenshot(page: Page, name: string, docName?: string): Promise<void> {
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  if (docName && process.env['STELLA_UPDATE_DOC_IMAGES'] === '1') {
    mkdirSync(DOC_IMAGES, { recursive: true });
    copyFileSync(path, join(DOC_IMAGES, docName));
  }
}

const isTimelineRead = (r: Response): boolean => new URL(r.url()).pathname === '/timeline' && r.request().method() === 'GET';

/**
 * Runs `action`, waits for the `GET /timeline` it causes and for the page to show its answer
 * (after `rowsBefore` rows already shown, for "Load more"); the answer's status and body.
 */
async function timelineAnswer(page: Page, action: () => Promise<unknown>, rowsBefore = 0): Promise<{ status: number; body: TimelinePageAnswer & { error_code?: string; field?: string } }> {
  const response = page.waitForResponse(isTimelineRead);
  await action();
  const answered = await response;
  const body = (await answered.json()) as TimelinePageAnswer & { error_code?: string };
  const results = page.getByRole('region', { name: 'Events', exact: true });
  if (answered.status() === 200) {
    await results.getByRole('status').filter({ hasText: /newest first/ }).waitFor();
    // A function, not a string: the Console's Content-Security-Policy allows no eval.
    type Doc = { querySelectorAll(selector: string): { length: number } };
    await page.waitForFunction((n) => (globalThis as unknown as { document: Doc }).document.querySelectorAll('table.events tbody tr').length === n, rowsBefore + body.events.length);
  } else await results.getByRole('alert').waitFor();
  return { status: answered.status(), body };
}

/** The rows the events table shows. */
function rows(page: Page): Promise<{ id: string; text: string; links: string[] }[]> {
  return page.locator('table.events tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({ id: tr.getAttribute('data-event-id') ?? '', text: tr.textContent ?? '', links: [...tr.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? '') })),
  );
}

/** The page's form controls without an accessible name: a button without text, a field without a label, aria-label or aria-labelledby. */
function unlabelled(page: Page): Promise<string[]> {
  type Control = { tagName: string; textContent: string | null; outerHTML: string; labels?: { length: number } | null; getAttribute(name: string): string | null };
  return page.locator('main input, main select, main textarea, main button').evaluateAll((els) =>
    (els as unknown as Control[])
      .filter((el) => {
        if (el.tagName === 'BUTTON') return (el.textContent ?? '').trim() === '' && !el.getAttribute('aria-label');
        return (el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby');
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

export function forensicsScenarios(demo: () => DemoConsole): void {
  const run = (tenant: string) => demo().demo.runs.find((r) => r.plan.tenant === tenant)!;
  const partnerFailure = () => run('acme').failure!;
  let apiToken: string | undefined;

  /** The service's answer to a read, as the Console user (USER_SCOPES) on `tenant`. */
  async function api<T>(path: string, tenant = 'acme'): Promise<T> {
    apiToken ??= await demo().token(USER_SCOPES);
    const res = await fetch(`${demo().url}${path}`, { headers: { authorization: `Bearer ${apiToken}`, 'x-stella-tenant': tenant } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
  /** The events of the partner feed's failed job: its whole trace, oldest first. */
  const failureTrace = async (): Promise<TimelineEvent[]> => (await api<TimelinePageAnswer>(`/timeline?trace_id=${partnerFailure().job.trace_id}&limit=100`)).events.reverse();
  const failedEvent = async (): Promise<TimelineEvent> => (await failureTrace()).find((e) => e.kind === 'job.failed')!;

  async function openTimeline(page: Page, query = ''): Promise<{ status: number; body: TimelinePageAnswer }> {
    if (query === '') return timelineAnswer(page, () => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Timeline' }).click());
    return timelineAnswer(page, () => page.goto(`${demo().url}/console/timeline?${query}`));
  }

  it("shows acme's real events newest first, every page of them through Load more, and only acme's; globex sees its own", async () => {
    const { page, pageErrors } = await demo().signedIn();
    expect((await openTimeline(page)).status).toBe(200);
    await page.getByRole('heading', { level: 1, name: 'Timeline' }).waitFor();
    // 20 a page: acme's few dozen events take several.
    const form = page.getByRole('search', { name: 'Timeline filter' });
    await form.getByLabel('Per page').selectOption('20');
    const first = await timelineAnswer(page, () => form.getByRole('button', { name: 'Show events' }).click());
    expect(new URL(page.url()).searchParams.get('limit')).toBe('20');
    expect(first.body.events).toHaveLength(20);
    const seen = first.body.events;
    let next = first.body.next_cursor;
    let pages = 1;
    while (next) {
      const more = await timelineAnswer(page, () => page.getByRole('button', { name: 'Load more' }).click(), seen.length);
      expect(more.status).toBe(200);
      seen.push(...more.body.events);
      next = more.body.next_cursor;
      pages++;
      if (pages > 200) break;
    }
    expect(pages).toBeGreaterThan(1);
    await page.getByRole('region', { name: 'Events', exact: true }).getByRole('status').filter({ hasText: `${seen.length} events` }).waitFor();
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(new Set(seen.map((e) => e.tenant_id))).toEqual(new Set(['acme']));
    const times = seen.map((e) => Date.parse(e.ts));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const shown = new Set((await rows(page)).map((r) => r.id));
    expect(shown.size).toBe(seen.length);
    // The evaluation's whole chain is there; globex's is not.
    for (const e of demo().demo.timeline['acme']!) expect(shown.has(e.event_id), `${e.kind} ${e.event_id}`).toBe(true);
    for (const e of demo().demo.timeline['globex']!) expect(shown.has(e.event_id), `globex ${e.kind}`).toBe(false);
    const evaluated = (await rows(page)).find((r) => r.text.includes('policy.evaluated') && r.text.includes(run('acme').evaluation.result!.evaluation_id))!;
    expect(evaluated.text).toContain(`verdict ${run('acme').evaluation.result!.verdict}`);
    expect(evaluated.links).toContain(`/console/trace/${run('acme').evaluation.job.trace_id}`);
    expect(await unlabelled(page)).toEqual([]);

    // The tenant switcher shows globex's timeline instead.
    const other = await timelineAnswer(page, () => page.getByLabel('Tenant').selectOption('globex'));
    expect(new Set(other.body.events.map((e) => e.tenant_id))).toEqual(new Set(['globex']));
    const globexShown = new Set((await rows(page)).map((r) => r.id));
    for (const e of demo().demo.timeline['acme']!) expect(globexShown.has(e.event_id)).toBe(false);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('narrows by kind, resource, actor and window, and the URL keeps each filter', async () => {
    const { page, pageErrors } = await demo().signedIn();
    const all = await openTimeline(page);
    expect(all.status).toBe(200);
    const failure = partnerFailure();
    const failed = await failedEvent();
    const form = page.getByRole('search', { name: 'Timeline filter' });
    const submit = () => form.getByRole('button', { name: 'Show events' }).click();
    const clear = () => timelineAnswer(page, () => form.getByRole('button', { name: 'Clear filter' }).click());

    // Kind.
    await form.getByLabel('Kind').fill('job.failed');
    const byKind = await timelineAnswer(page, submit);
    expect(new URL(page.url()).searchParams.get('kind')).toBe('job.failed');
    expect(byKind.body.events.length).toBeGreaterThan(0);
    expect(byKind.body.events.every((e) => e.kind === 'job.failed')).toBe(true);
    expect(byKind.body.events.map((e) => e.event_id)).toContain(failed.event_id);
    expect((await rows(page)).every((r) => r.text.includes('job.failed'))).toBe(true);

    // Resource (type and id): the failed job's own events.
    await clear();
    await form.getByLabel('Resource type').fill('job');
    await form.getByLabel('Resource id').fill(failure.job.job_id);
    const byResource = await timelineAnswer(page, submit);
    expect(new URL(page.url()).searchParams.get('resource_id')).toBe(failure.job.job_id);
    expect(byResource.body.events.every((e) => e.resource_type === 'job' && e.resource_id === failure.job.job_id)).toBe(true);
    expect(byResource.body.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['job.scheduled', 'job.failed']));

    // Actor: the failed job's, which not every event has.
    const everything = await api<TimelinePageAnswer>('/timeline?limit=1000');
    const actor = failed.actor!;
    const ofActor = everything.events.filter((e) => e.actor === actor).length;
    expect(ofActor).toBeLessThan(everything.events.length);
    await clear();
    await form.getByLabel('Actor').fill(actor);
    const byActor = await timelineAnswer(page, submit);
    expect(byActor.status).toBe(200);
    expect(new URL(page.url()).searchParams.get('actor')).toBe(actor);
    expect(byActor.body.events.length).toBeGreaterThan(0);
    expect(byActor.body.events.every((e) => e.actor === actor)).toBe(true);

    // Window: from–to around the failed job's trace, to the second.
    const trace = await failureTrace();
    const from = new Date(Math.floor(Date.parse(trace[0]!.ts) / 1000) * 1000);
    const to = new Date(Math.ceil((Date.parse(trace.at(-1)!.ts) + 1) / 1000) * 1000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await clear();
    await form.getByLabel('Window').selectOption('range');
    await form.getByLabel('From', { exact: true }).fill(local(from));
    await form.getByLabel('To', { exact: true }).fill(local(to));
    const byRange = await timelineAnswer(page, submit);
    expect(new URL(page.url()).searchParams.get('from')).toBe(from.toISOString());
    expect(new URL(page.url()).searchParams.get('to')).toBe(to.toISOString());
    expect(byRange.body.events.map((e) => e.event_id)).toEqual(expect.arrayContaining(trace.map((e) => e.event_id)));
    expect(byRange.body.events.every((e) => Date.parse(e.ts) >= from.getTime() && Date.parse(e.ts) <= to.getTime())).toBe(true);
    expect(byRange.body.events.length).toBeLessThan(everything.events.length);

    // Window: the last 15 minutes.
    await clear();
    await form.getByLabel('Window').selectOption('15');
    const lastQuarter = await timelineAnswer(page, submit);
    expect(new URL(page.url()).searchParams.get('window')).toBe('15');
    expect(Date.parse(lastQuarter.body.window.to) - Date.parse(lastQuarter.body.window.from)).toBe(15 * 60_000);

    // Back returns to the previous filter.
    await timelineAnswer(page, () => page.goBack());
    expect(new URL(page.url()).searchParams.get('window')).toBeNull();
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 120_000);

  it("explains a filter the Console refuses, the service's 400 at its field, and a 403", async () => {
    const { page, pageErrors } = await demo().signedIn();
    await openTimeline(page);
    const form = page.getByRole('search', { name: 'Timeline filter' });
    // Checked before it is sent.
    await form.getByLabel('Kind').fill('Job.Failed');
    await form.getByRole('button', { name: 'Show events' }).click();
    await expect(form.getByLabel('Kind').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await form.locator('.field-problem').textContent()).toContain('neither a kind');
    await form.getByLabel('Kind').fill('');
    // Wider than the tenant's retention: the service says why, at the From field.
    await form.getByLabel('Window').selectOption('range');
    await form.getByLabel('From', { exact: true }).fill('1971-01-01T00:00:00');
    const refused = await timelineAnswer(page, () => form.getByRole('button', { name: 'Show events' }).click());
    expect(refused.status).toBe(400);
    expect(refused.body.error_code).toBe('timeline.window_too_wide');
    await expect(form.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await form.locator('.field-problem').textContent()).toContain('the window may span at most');
    expect(await page.getByRole('region', { name: 'Events', exact: true }).getByRole('alert').textContent()).toContain('timeline.window_too_wide');
    await page.context().close();

    // A token without stella:timeline:read on acme: the 403 names the scope.
    const denied = await demo().signedIn({ scopes: ['stella:obs:read#tenant/acme'] });
    const answer = await openTimeline(denied.page);
    expect(answer.status).toBe(403);
    const alert = denied.page.getByRole('region', { name: 'Events', exact: true }).getByRole('alert');
    expect(await alert.textContent()).toContain('Access denied');
    expect(await alert.textContent()).toContain('stella:timeline:read');
    expect([...pageErrors, ...denied.pageErrors]).toEqual([]);
    await denied.page.context().close();
  }, 90_000);

  it('"Job failures that touched component" partner-osv finds the failed partner feed job through its trace, and its why-link', async () => {
    const { page, pageErrors } = await demo().signedIn();
    await openTimeline(page);
    const failure = partnerFailure();
    const failed = await failedEvent();
    // The job's trace has the advisory the feed refused, naming the feed.
    const trace = await failureTrace();
    expect(trace.find((e) => e.kind === 'advisory.rejected')?.details['feed']).toBe('partner-osv');

    // Keyboard only: the component field, typed, Enter.
    const canned = page.getByRole('region', { name: 'Canned filters', exact: true });
    await canned.getByLabel('Component, feed or purl').focus();
    await page.keyboard.type('partner-osv');
    const found = await timelineAnswer(page, () => page.keyboard.press('Enter'));
    const url = new URL(page.url());
    expect([url.searchParams.get('kind'), url.searchParams.get('touches'), url.searchParams.get('filter')]).toEqual(['job.failed', 'partner-osv', 'job-failures']);
    expect(found.body.events.map((e) => e.event_id)).toEqual([failed.event_id]);
    expect(found.body.events[0]!.resource_id).toBe(failure.job.job_id);
    await page.getByRole('region', { name: 'Events', exact: true }).locator('.applied-filter').filter({ hasText: 'Job failures that touched component' }).waitFor();

    const [row] = await rows(page);
    expect(row!.text).toContain('advisory.malformed');
    expect(row!.links).toContain(`/console/why?event_id=${failed.event_id}`);
    expect(row!.links).toContain(`/console/trace/${failure.job.trace_id}`);
    expect(row!.links).toContain(`/console/timeline/${failed.event_id}`);
    const why = page.getByRole('link', { name: /^Why is this red\?/ });
    expect(await why.getAttribute('href')).toBe(`/console/why?event_id=${failed.event_id}`);
    await screenshot(page, 'timeline-job-failures.png', 'console-timeline.png');

    // The successful feed touched no failed job; other failed jobs (the broken SBOM) did not touch the partner feed.
    await canned.getByLabel('Component, feed or purl').fill('stella-osv');
    const none = await timelineAnswer(page, () => canned.getByRole('button', { name: /Show job failures that touched component/i }).click());
    expect(none.body.events).toEqual([]);
    const allFailures = await api<TimelinePageAnswer>('/timeline?kind=job.failed&limit=100');
    expect(allFailures.events.length).toBeGreaterThan(1);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('"Decisions for this trace" lists the evaluation\'s policy decision and leads to the trace', async () => {
    const { page, pageErrors } = await demo().signedIn();
    await openTimeline(page);
    const evaluation = run('acme').evaluation;
    const canned = page.getByRole('region', { name: 'Canned filters', exact: true });
    await canned.getByLabel('Trace id').fill(evaluation.job.trace_id);
    const found = await timelineAnswer(page, () => canned.getByRole('button', { name: /Show decisions for this trace/i }).click());
    expect(new URL(page.url()).searchParams.get('kind')).toBe('policy.*,authz.*,decision.*');
    expect(found.body.events.length).toBeGreaterThan(0);
    expect(found.body.events.every((e) => e.trace_id === evaluation.job.trace_id && /^(policy|authz|decision)\./.test(e.kind))).toBe(true);
    const decision = found.body.events.find((e) => e.kind === 'policy.evaluated')!;
    expect(decision.resource_id).toBe(evaluation.result!.evaluation_id);
    const results = page.getByRole('region', { name: 'Events', exact: true });
    expect(await results.getByRole('link', { name: /^Open trace/ }).getAttribute('href')).toBe(`/console/trace/${evaluation.job.trace_id}`);
    const row = (await rows(page)).find((r) => r.id === decision.event_id)!;
    expect(row.text).toContain(`verdict ${evaluation.result!.verdict}`);
    // A denying verdict is red and explained by "Why is this red?".
    expect(row.links.includes(`/console/why?event_id=${decision.event_id}`)).toBe(evaluation.result!.verdict === 'deny');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('shows an event in full with ±N context around it, among all events, its resource or its trace', async () => {
    const { page, pageErrors } = await demo().signedIn();
    const failed = await failedEvent();
    const failure = partnerFailure();
    await openTimeline(page, `kind=job.failed&touches=partner-osv&filter=job-failures`);
    await page.getByRole('link', { name: /^Event job\.failed/ }).click();
    await page.waitForURL(`**/console/timeline/${failed.event_id}`);
    await page.getByRole('heading', { level: 1, name: 'Timeline event' }).waitFor();
    const facts = page.getByRole('region', { name: 'Event', exact: true });
    await facts.getByText(failed.digest).waitFor();
    for (const value of [failed.event_id, failed.tenant_id, failed.kind, failure.job.job_id, failure.job.trace_id]) expect(await facts.textContent()).toContain(value);
    const details = page.getByRole('region', { name: 'Details', exact: true });
    expect(await details.getByRole('definition').first().textContent()).toBeTruthy();
    expect(await details.textContent()).toContain('advisory.malformed');
    const leads = page.getByRole('region', { name: 'Where it leads', exact: true });
    expect(await leads.getByRole('link', { name: /^Open trace/ }).getAttribute('href')).toBe(`/console/trace/${failure.job.trace_id}`);
    expect(await leads.getByRole('link', { name: 'Why is this red?' }).getAttribute('href')).toBe(`/console/why?event_id=${failed.event_id}`);

    // Default: 5 before and after among all events, this one highlighted.
    const context = page.getByRole('region', { name: /^Context/ });
    await context.getByRole('status').waitFor();
    let shown = await rows(page);
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.length).toBeLessThanOrEqual(11);
    expect(await page.locator('table.events tr[aria-current="true"]').getAttribute('data-event-id')).toBe(failed.event_id);

    // ±2 in the same trace: the advisory the feed refused comes just before the failure.
    await context.getByLabel('Events before and after').fill('2');
    await context.getByLabel('Same trace').check();
    await context.getByRole('button', { name: 'Show context' }).click();
    await page.waitForURL(`**/console/timeline/${failed.event_id}?context=2&scope=trace`);
    await context.getByRole('status').filter({ hasText: /of trace/ }).waitFor();
    shown = await rows(page);
    expect(shown.length).toBeLessThanOrEqual(5);
    expect(shown.every((r) => r.links.includes(`/console/trace/${failure.job.trace_id}`))).toBe(true);
    const centre = shown.findIndex((r) => r.id === failed.event_id);
    expect(shown.slice(0, centre).some((r) => r.text.includes('advisory.rejected'))).toBe(true);
    expect(await unlabelled(page)).toEqual([]);
    await screenshot(page, 'timeline-event-context.png', 'console-event-context.png');

    // Same resource: only the job's own events.
    await context.getByLabel('Same resource').check();
    await context.getByRole('button', { name: 'Show context' }).click();
    await context.getByRole('status').filter({ hasText: `job/${failure.job.job_id}` }).waitFor();
    shown = await rows(page);
    expect(shown.every((r) => r.text.includes(`job/${failure.job.job_id}`))).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it("leads from the evaluation's events to their evidence bundles and attestations", async () => {
    const { page, pageErrors } = await demo().signedIn();
    const evaluation = run('acme').evaluation;
    const events = [
      ...(await api<TimelinePageAnswer>(`/timeline?resource_type=job&resource_id=${evaluation.job.job_id}&kind=job.finished`)).events,
      ...(await api<TimelinePageAnswer>(`/timeline?resource_type=evaluation&resource_id=${evaluation.result!.evaluation_id}&kind=policy.evaluated`)).events,
    ];
    expect(events.map((e) => e.kind).sort()).toEqual(['job.finished', 'policy.evaluated']);
    let leadsFound = 0;
    for (const event of events) {
      const detail = await api<EventDetailAnswer>(`/timeline/${event.event_id}`);
      await page.goto(`${demo().url}/console/timeline/${event.event_id}`);
      const leads = page.getByRole('region', { name: 'Where it leads', exact: true });
      await leads.waitFor();
      const attestationId = typeof event.details['attestation_id'] === 'string' ? event.details['attestation_id'] : undefined;
      if (attestationId) await leads.getByRole('link', { name: `Verify attestation ${attestationId}` }).waitFor();
      await page.waitForFunction(() => !(globalThis as unknown as { document: { body: { textContent: string } } }).document.body.textContent.includes('Looking for attestations'));
      const hrefs = await leads.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(hrefs).toContain(`/console/trace/${evaluation.job.trace_id}`);
      for (const bundle of detail.links.evidence) expect(hrefs, bundle.bundle_id).toContain(`/console/evidence/${bundle.bundle_id}`);
      if (attestationId) expect(hrefs).toContain(`/console/attestations?id=${attestationId}`);
      leadsFound += detail.links.evidence.length + (attestationId ? 1 : 0);
    }
    // The demo snapshots the evaluation and its job, and attests the job.
    if (demo().demo.evidence) expect(leadsFound).toBeGreaterThanOrEqual(2);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it("saves, applies, replaces and deletes a filter of one user; another user does not see it", async () => {
    const NAME = 'Partner feed failures';
    const a = await demo().signedIn({ subject: 'forensics-analyst-a' });
    const page = a.page;
    await openTimeline(page, 'kind=job.failed&touches=partner-osv&filter=job-failures');
    const saved = page.getByRole('region', { name: 'Saved filters', exact: true });
    await saved.getByText(/No saved filters yet|Partner feed failures/).first().waitFor();
    // A name the service would refuse is caught here.
    await saved.getByLabel('Name').fill('partner/feed');
    await saved.getByRole('button', { name: 'Save filter' }).click();
    expect(await saved.locator('.field-problem').textContent()).toContain('Letters, digits');
    await saved.getByLabel('Name').fill(NAME);
    await saved.getByRole('button', { name: 'Save filter' }).click();
    await saved.getByRole('status').filter({ hasText: `Saved “${NAME}”` }).waitFor();
    const row = saved.getByRole('row').filter({ hasText: NAME });
    await row.waitFor();
    expect(await row.textContent()).toContain('kind=job.failed · touches=partner-osv');

    // Applied from a cleared timeline, it narrows as it did.
    await timelineAnswer(page, () => page.getByRole('search', { name: 'Timeline filter' }).getByRole('button', { name: 'Clear filter' }).click());
    const applied = await timelineAnswer(page, () => row.getByRole('link', { name: `Apply saved filter ${NAME}` }).click());
    const url = new URL(page.url());
    expect([url.searchParams.get('kind'), url.searchParams.get('touches'), url.searchParams.get('filter')]).toEqual(['job.failed', 'partner-osv', `saved:${NAME}`]);
    expect(applied.body.events.map((e) => e.event_id)).toEqual([(await failedEvent()).event_id]);

    // Another user on the same tenant has saved filters of their own.
    const b = await demo().signedIn({ subject: 'forensics-analyst-b' });
    await openTimeline(b.page);
    const savedB = b.page.getByRole('region', { name: 'Saved filters', exact: true });
    await savedB.getByText('No saved filters yet.').waitFor();
    await b.page.context().close();

    // Replaced with another filter, then deleted.
    await timelineAnswer(page, async () => {
      await page.getByRole('search', { name: 'Timeline filter' }).getByLabel('Touches').fill('');
      await page.getByRole('search', { name: 'Timeline filter' }).getByRole('button', { name: 'Show events' }).click();
    });
    const savedNow = page.getByRole('region', { name: 'Saved filters', exact: true });
    await savedNow.getByRole('row').filter({ hasText: NAME }).getByRole('button', { name: /^Replace with the applied filter/ }).click();
    await savedNow.getByRole('status').filter({ hasText: `Replaced “${NAME}”` }).waitFor();
    await savedNow.getByRole('row').filter({ hasText: NAME }).filter({ hasNotText: 'touches=' }).waitFor();
    await savedNow.getByRole('row').filter({ hasText: NAME }).getByRole('button', { name: `Delete saved filter ${NAME}` }).click();
    await savedNow.getByRole('status').filter({ hasText: `Deleted “${NAME}”` }).waitFor();
    await savedNow.getByText('No saved filters yet.').waitFor();
    expect([...a.pageErrors, ...b.pageErrors]).toEqual([]);
    await page.context().close();
  }, 90_000);
}
