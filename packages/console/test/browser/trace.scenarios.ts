/**
 * Traces and "why is this red?" on the demo's data: trace search finds the demo's traces (and
 * explains a refusal at its field), the trace view's critical path and jump to first error, two
 * real traces compared, and the click-through from the injected failure — the burning SBOM ingest
 * SLO and a failed job — and from a denied policy evaluation to the exact span, its log lines and
 * its decisions.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { criticalPath } from '../../src/trace/critical-path.js';
import type { TraceAnswer } from '../../src/api/api-types.js';
import type { TracesAnswer } from '../../src/trace/trace-types.js';
import { ARTIFACTS } from './browser-kit.js';
import type { DemoConsole } from './demo-console.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

function acme(demo: DemoConsole) {
  const run = demo.demo.runs.find((r) => r.plan.tenant === 'acme');
  const burn = demo.demo.sloBurn;
  if (!run || !burn || burn.failures.length === 0) throw new Error('the demo did not record acme\'s run and its injected failure');
  return { evaluation: run.evaluation.job.trace_id, failures: burn.failures.map((f) => f.job.trace_id), burn };
}

/** The trace as the service answers it, read with a token of its own. */
async function readTrace(demo: DemoConsole, traceId: string): Promise<TraceAnswer> {
  const token = await demo.token(['stella:obs:read#tenant/acme']);
  const res = await fetch(`${demo.url}/obs/trace/${traceId}`, { headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' } });
  expect(res.status).toBe(200);
  return (await res.json()) as TraceAnswer;
}

/** `GET /obs/traces` as the service answers it, read with a token of its own. */
async function searchTraces(demo: DemoConsole, params: Record<string, string>): Promise<TracesAnswer> {
  const token = await demo.token(['stella:obs:read#tenant/acme']);
  const res = await fetch(`${demo.url}/obs/traces?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'acme' } });
  expect(res.status).toBe(200);
  return (await res.json()) as TracesAnswer;
}

const spanRows = (page: Page) => page.getByRole('list', { name: 'Spans in call order' }).getByRole('listitem');

export function traceScenarios(demo: () => DemoConsole): void {
  it("finds the demo's traces by service, opens one, and shows the service's refusal at its field", async () => {
    const { evaluation, failures } = acme(demo());
    const { page, pageErrors } = await demo().signedIn();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Traces' }).click();
    await page.getByRole('heading', { name: 'Trace search' }).waitFor();
    await page.getByLabel('Service').fill('sbom-service');
    await page.getByLabel('Max traces').fill('100');
    await page.getByRole('button', { name: 'Search traces' }).click();
    const results = page.getByRole('region', { name: 'Traces' });
    await results.getByText(/^\d+ traces? between/).waitFor();
    expect(new URL(page.url()).searchParams.get('service')).toBe('sbom-service');
    // The page lists what the service finds: among them the good evaluation and the ones that failed at SBOM compute.
    // Until the search answers, the page still shows the unfiltered list it opened with: wait for the new one.
    const found = (await searchTraces(demo(), { service: 'sbom-service', limit: '100' })).traces.map((t) => t.trace_id);
    expect(found).toContain(evaluation);
    expect(found).toContain(failures[0]);
    const shownTraces = (): Promise<string[]> => results.getByRole('row').evaluateAll((rows) => rows.map((r) => r.querySelector('th code')?.textContent ?? '').filter(Boolean));
    await expect.poll(shownTraces).toEqual(found);
    expect(await results.getByText('More traces matched than').count()).toBe(0);
    const failedRow = results.getByRole('row').filter({ hasText: failures[0]! });
    expect(await failedRow.textContent()).toContain('1 error span');
    await page.screenshot({ path: join(ARTIFACTS, 'console-trace-search.png'), fullPage: true });

    // Guardrails: a row count above the service's cap is refused before sending; an attribute without "=" by the service, at its field.
    await page.getByLabel('Max traces').fill('500');
    await page.getByRole('button', { name: 'Search traces' }).click();
    expect(await page.getByText('From 1 to 200 traces; narrow the search to see fewer.').count()).toBe(1);
    await page.getByLabel('Max traces').fill('100');
    await page.getByLabel('Attribute (key=value)').fill('stella.job.type');
    await page.getByRole('button', { name: 'Search traces' }).click();
    const attribute = page.getByLabel('Attribute (key=value)');
    await expect.poll(() => attribute.getAttribute('aria-invalid')).toBe('true');
    const problem = page.locator('.field').filter({ has: attribute }).locator('.field-problem');
    expect(await problem.textContent()).toContain('attribute must be key=value');
    expect(await results.getByRole('alert').textContent()).toContain('obs.attribute_invalid');
    await page.screenshot({ path: join(ARTIFACTS, 'console-trace-search-refused.png'), fullPage: true });

    // The attribute filter itself: the failed evaluations' job spans carry stella.job.type.
    await attribute.fill('stella.job.type=evaluation.run');
    await page.getByRole('button', { name: 'Search traces' }).click();
    await expect.poll(() => attribute.getAttribute('aria-invalid')).toBe(null);
    const withAttribute = (await searchTraces(demo(), { service: 'sbom-service', limit: '100', attribute: 'stella.job.type=evaluation.run' })).traces.map((t) => t.trace_id);
    expect(withAttribute).toContain(failures[0]);
    expect(new URL(page.url()).searchParams.get('attr')).toBe('stella.job.type=evaluation.run');
    await expect.poll(shownTraces).toEqual(withAttribute);

    await results.getByRole('link', { name: new RegExp(`trace ${evaluation}$`) }).click();
    await page.getByRole('heading', { name: 'Waterfall' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/trace/${evaluation}`);
    expect(await spanRows(page).count()).toBeGreaterThan(20);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('marks the critical path of a failed job, toggles it, and jumps to the first error', async () => {
    const { failures } = acme(demo());
    const traceId = failures[failures.length - 1]!;
    const stored = await readTrace(demo(), traceId);
    const expected = criticalPath(stored.spans);
    const root = stored.spans.find((s) => s.span_id === expected.starts[0])!;
    const failed = stored.spans.find((s) => s.status.code === 'ERROR')!;
    expect(failed.name).toBe('sbom.ingest');

    const { page, pageErrors } = await demo().signedIn();
    // ?span= selects a span when the trace opens: the root here, so the jump has somewhere to go.
    await page.goto(`${demo().url}/console/trace/${traceId}?span=${root.span_id}`);
    await page.getByRole('heading', { name: 'Waterfall' }).waitFor();
    const rows = spanRows(page);
    await rows.first().waitFor();
    expect(await rows.count()).toBe(stored.spans.length);
    const details = page.getByRole('region', { name: 'Span details' });
    expect(await details.getByRole('heading', { level: 3 }).textContent()).toContain(root.name);

    // The path the page marks is the walk's, from the root and on from the job the root did not wait for.
    const marked = async (): Promise<string[]> => page.locator('li.critical button.span-row').evaluateAll((els) => els.map((el) => el.getAttribute('data-span-id') ?? ''));
    expect((await marked()).sort()).toEqual([...expected.spanIds].sort());
    expect(expected.starts).toHaveLength(2);
    expect(stored.spans.find((s) => s.span_id === expected.starts[1])!.name).toBe('runner.execute');
    expect(await rows.filter({ hasText: 'on the critical path' }).count()).toBe(expected.spanIds.length);
    const tools = page.getByRole('group', { name: 'Waterfall tools' });
    expect(await tools.textContent()).toMatch(new RegExp(`critical path \\(${expected.spanIds.length} spans\\): what the end of the trace waited on, from ${root.name.replace(/[.{}]/g, '\\$&')}`));
    await tools.getByLabel('Show the critical path').uncheck();
    expect(await marked()).toEqual([]);
    await tools.getByLabel('Show the critical path').check();
    expect((await marked()).length).toBe(expected.spanIds.length);

    await tools.getByRole('button', { name: 'Jump to first error' }).click();
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("data-span-id")')).toBe(failed.span_id);
    expect(await page.locator(`button.span-row[data-span-id="${failed.span_id}"]`).getAttribute('aria-pressed')).toBe('true');
    expect(await details.getByRole('heading', { level: 3 }).textContent()).toContain('sbom.ingest');
    // The span's exception event, with its message; no decision in this trace; the job's failure on the timeline.
    const events = details.getByRole('table', { name: 'Events of span sbom.ingest' });
    expect(await events.getByRole('rowheader').allTextContents()).toEqual(['exception']);
    expect(await events.textContent()).toContain('is not a package URL');
    expect(await page.getByRole('region', { name: 'Policy and authz decisions' }).textContent()).toContain('No policy or authz decision was recorded in this trace.');
    const timeline = page.getByRole('region', { name: 'Timeline events of this trace' });
    await timeline.getByRole('link', { name: 'job.failed', exact: true }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'console-trace-critical-path.png'), fullPage: true });
    // Keyboard: from the error, the arrow keys still move between spans.
    await page.keyboard.press('ArrowUp');
    expect(await page.evaluate('document.activeElement?.textContent')).toContain('api.sboms');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('compares a good evaluation with one that failed at SBOM compute, chosen from trace search', async () => {
    const { evaluation, failures } = acme(demo());
    const failed = failures[0]!;
    const { page, pageErrors } = await demo().signedIn();
    await page.goto(`${demo().url}/console/traces?service=sbom-service&limit=100`);
    const results = page.getByRole('region', { name: 'Traces' });
    await results.getByRole('link', { name: new RegExp(`trace ${evaluation}$`) }).waitFor();
    const compare = page.getByRole('button', { name: 'Compare the two traces' });
    expect(await compare.isDisabled()).toBe(true);
    await results.getByLabel(`Compare trace ${evaluation}`).check();
    await results.getByLabel(`Compare trace ${failed}`).check();
    // Two chosen: the others wait.
    expect(await results.getByLabel(`Compare trace ${failures[1]}`).isDisabled()).toBe(true);
    await compare.click();
    await page.getByRole('heading', { name: 'Compare traces' }).waitFor();
    const url = new URL(page.url());
    expect([url.pathname, url.searchParams.get('a'), url.searchParams.get('b')]).toEqual(['/console/traces/compare', evaluation, failed]);

    const [a, b] = await Promise.all([readTrace(demo(), evaluation), readTrace(demo(), failed)]);
    const summary = page.getByRole('region', { name: 'The two traces' });
    await summary.getByRole('table').waitFor();
    expect(await summary.getByRole('row', { name: /^Spans/ }).textContent()).toContain(`${a.spans.length}${b.spans.length}`);
    expect(await page.getByTestId('duration-delta').textContent()).toMatch(/^[+−][\d.]+ (ms|s|µs) \([+−][\d.]+ %\)/);
    const differs = page.getByRole('region', { name: 'What differs' });
    // The failed run never reached the policy engine, and its SBOM ingest failed where the good one's passed.
    expect(await differs.getByRole('listitem').filter({ hasText: /^policy\.evaluate \(policy-engine\)/ }).count()).toBe(1);
    expect(await differs.getByRole('listitem').filter({ hasText: 'sbom.ingest (sbom-service) — errors 0 in A, 1 in B' }).count()).toBe(1);
    const spans = page.getByRole('region', { name: 'Spans by service and name' });
    expect(await spans.getByRole('row').filter({ hasText: 'errors differ' }).getByRole('rowheader').allTextContents()).toEqual(['sbom.ingest']);
    expect(await spans.getByRole('row').filter({ hasText: 'only in A' }).count()).toBeGreaterThan(5);
    await page.screenshot({ path: join(ARTIFACTS, 'console-trace-compare.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('"why is this red?" from the burning SBOM ingest SLO lands on the failed span, its log lines and the decisions of its trace', async () => {
    const { failures } = acme(demo());
    const { page, pageErrors } = await demo().signedIn();
    const slos = page.getByRole('region', { name: 'SLOs' });
    const burning = slos.getByRole('row').filter({ hasText: 'SBOM ingest reaches the first component within 5 s' });
    await burning.getByRole('link', { name: /Why is this red\?/ }).click();
    await page.getByRole('heading', { name: 'Why is this red?' }).waitFor();
    expect(new URL(page.url()).search).toBe('?service=sbom-service');
    const span = page.getByRole('region', { name: 'The span' });
    await span.getByText('sbom.ingest', { exact: true }).waitFor();
    expect(await span.textContent()).toContain('sbom.ingest in sbom-service');
    expect(await span.getByText('error', { exact: true }).count()).toBe(1);
    expect(await span.textContent()).toMatch(/Exception: sbom\.invalid: components\[\d+\]\.purl: .* is not a package URL/);
    const traceId = (await span.getByRole('definition').filter({ hasText: TRACE_ID }).first().textContent())!.trim();
    expect(failures).toContain(traceId);
    const logs = page.getByRole('region', { name: 'Log lines' });
    expect(await logs.getByRole('cell', { name: 'POST /sboms refused' }).count()).toBe(1);
    expect(await logs.getByRole('cell', { name: 'job failed' }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('region', { name: 'Decisions' }).textContent()).toContain('No policy or authz decision was recorded in this trace');
    await page.getByText(/How this was found/).click();
    expect(await page.getByRole('listitem').filter({ hasText: 'Trace search (status error)' }).count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'console-why.png'), fullPage: true });

    // One more click: the full trace, at that span.
    await span.getByRole('link', { name: 'Open the full trace at this span' }).click();
    await page.getByRole('heading', { name: 'Waterfall' }).waitFor();
    const url = new URL(page.url());
    expect(url.pathname).toBe(`/console/trace/${traceId}`);
    const spanId = url.searchParams.get('span')!;
    expect(await page.locator(`button.span-row[data-span-id="${spanId}"]`).getAttribute('aria-pressed')).toBe('true');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('"why is this red?" from a failed job and from a denied policy evaluation on the timeline', async () => {
    const { evaluation, failures } = acme(demo());
    const { page, pageErrors } = await demo().signedIn();

    // A failed job: its trace's timeline events, then Why? on job.failed.
    await page.goto(`${demo().url}/console/trace/${failures[0]}`);
    const timeline = page.getByRole('region', { name: 'Timeline events of this trace' });
    const failedRow = timeline.getByRole('row').filter({ has: page.getByRole('link', { name: 'job.failed', exact: true }) });
    await failedRow.getByRole('link', { name: /Why is event job\.failed red/ }).click();
    await page.getByRole('heading', { name: 'Why is this red?' }).waitFor();
    expect(new URL(page.url()).searchParams.get('event_id')).toMatch(/^[0-9a-f-]{36}$/);
    const event = page.locator('p.why-event');
    await event.waitFor();
    expect(await event.textContent()).toMatch(/^Timeline event job\.failed of job\/job-/);
    const span = page.getByRole('region', { name: 'The span' });
    expect(await span.textContent()).toContain('sbom.ingest in sbom-service');
    expect(await span.getByRole('definition').filter({ hasText: failures[0]! }).count()).toBe(1);

    // A denied evaluation: the policy.evaluated event of acme's good run, whose verdict was deny.
    const evaluated = demo().demo.timeline['acme']?.find((e) => e.kind === 'policy.evaluated');
    expect(evaluated?.details['verdict']).toBe('deny');
    await page.goto(`${demo().url}/console/trace/${evaluation}`);
    const row = page.getByRole('region', { name: 'Timeline events of this trace' }).getByRole('row').filter({ has: page.getByRole('link', { name: 'policy.evaluated', exact: true }) });
    await row.getByRole('link', { name: /Why is event policy\.evaluated red/ }).click();
    await page.getByRole('heading', { name: 'Why is this red?' }).waitFor();
    expect(new URL(page.url()).searchParams.get('event_id')).toBe(evaluated!.event_id);
    await span.getByText('policy.evaluate', { exact: true }).waitFor();
    expect(await span.textContent()).toContain('policy.evaluate in policy-engine');
    expect(await span.getByText('denied', { exact: true }).count()).toBe(1);
    expect(await span.textContent()).toContain('this span recorded a policy denial');
    const decisions = page.getByRole('region', { name: 'Decisions' });
    const rows = decisions.getByRole('table').getByRole('row');
    // Denials first, each with its rule, policy version and package.
    expect(await decisions.textContent()).toMatch(/\d+ denials among the \d+ decisions of this trace/);
    const first = await rows.nth(1).textContent();
    expect(first).toMatch(/^denypolicy/);
    expect(first).toMatch(/R-[A-Z-]+/);
    expect(first).toMatch(/baseline@\d+/);
    expect(first).toContain('pkg:');
    const logs = page.getByRole('region', { name: 'Log lines' });
    expect(await logs.getByRole('cell', { name: 'decision.policy' }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'console-why-decision.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);
}
