/**
 * The Console end to end, in a real browser (Debian's Chromium driven by playwright-core)
 * against a real service: the test builds the Console from its sources, starts the service as
 * a process on embedded defaults serving that build, sends it a trace over OTLP/HTTP — a
 * request that failed in policy-engine, its logs, and successful requests around it — and
 * mints tokens with `stella auth token`, as a user would. It then signs in, reads the hub,
 * opens the failed trace by its id, searches logs, and switches to a tenant the token cannot
 * read. Screenshots go to packages/console/artifacts/ (git-ignored).
 *
 * Without /usr/bin/chromium the suite is skipped with a message, except under CI=true, where it
 * fails (browser/browser-kit.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, buildConsole, launchChromium, mintToken, requireChromium, ROOT, runBrowserSuites } from './browser/browser-kit.js';

const FAILED_TRACE = randomBytes(16).toString('hex');
const SPAN = { gateway: randomBytes(8).toString('hex'), engine: randomBytes(8).toString('hex'), evaluate: randomBytes(8).toString('hex'), db: randomBytes(8).toString('hex') };
const DENIAL = 'rule R-7 denied pkg:npm/lodash@4.17.20';

interface RunningService {
  child: ChildProcess;
  url: string;
  otlpUrl: string;
  output: string[];
}

/** The service as a process (from its sources, as `npm run dev` runs it) on ephemeral ports, read from its start-up log lines. */
async function startService(dataDir: string, consoleDir: string): Promise<RunningService> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'packages/server/src/main.ts'), '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'info'],
    { env: { ...process.env, STELLA_CONSOLE_DIR: consoleDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let otlpPort: number | undefined;
    const fail = (why: string): void => reject(new Error(`${why}\n${output.join('').slice(-4000)}`));
    const deadline = setTimeout(() => fail('the service did not start within 120 s'), 120_000);
    child.once('exit', (code) => fail(`the service exited with code ${code}`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(`${line}\n`);
      const record = JSON.parse(line) as { msg?: string; details?: { address?: string; otlp_http_port?: number } };
      if (record.msg === 'service listening') url = record.details?.address;
      if (record.msg === 'OTLP receiver listening') otlpPort = record.details?.otlp_http_port;
      if (url && otlpPort) {
        clearTimeout(deadline);
        resolve({ child, url, otlpUrl: `http://127.0.0.1:${otlpPort}`, output });
      }
    });
  });
}

const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const attr = (key: string, value: string | number) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } });
const resource = (service: string) => ({ attributes: [attr('service.name', service)] });

/** A failed policy evaluation through the gateway (the evaluation's error is the first), and six good requests. */
function seedTraces(now: number) {
  const t0 = now - 20_000;
  const ok = (i: number) => ({
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: i === 0 ? 'POST /policy/evaluate' : 'GET /sbom/:id',
    kind: 2,
    startTimeUnixNano: nanos(now - 40_000 + i * 1000),
    endTimeUnixNano: nanos(now - 40_000 + i * 1000 + 30 + i),
    attributes: [attr('http.route', i === 0 ? '/policy/evaluate' : '/sbom/:id'), attr('http.response.status_code', 200)],
    status: { code: 1 },
  });
  return {
    resourceSpans: [
      {
        resource: resource('api-gateway'),
        scopeSpans: [
          {
            scope: { name: 'gateway', version: '1.0.0' },
            spans: [
              {
                traceId: FAILED_TRACE,
                spanId: SPAN.gateway,
                name: 'POST /policy/evaluate',
                kind: 2,
                startTimeUnixNano: nanos(t0),
                endTimeUnixNano: nanos(t0 + 240),
                attributes: [attr('http.route', '/policy/evaluate'), attr('http.request.method', 'POST'), attr('http.response.status_code', 500)],
                status: { code: 2, message: 'upstream policy-engine failed' },
              },
              ...Array.from({ length: 6 }, (_, i) => ok(i)),
            ],
          },
        ],
      },
      {
        resource: resource('policy-engine'),
        scopeSpans: [
          {
            scope: { name: 'policy-engine', version: '3.2.0' },
            spans: [
              {
                traceId: FAILED_TRACE,
                spanId: SPAN.engine,
                parentSpanId: SPAN.gateway,
                name: 'POST /evaluate',
                kind: 2,
                startTimeUnixNano: nanos(t0 + 20),
                endTimeUnixNano: nanos(t0 + 220),
                attributes: [attr('http.route', '/evaluate'), attr('http.response.status_code', 500)],
                status: { code: 2, message: 'evaluation failed' },
              },
              {
                traceId: FAILED_TRACE,
                spanId: SPAN.db,
                parentSpanId: SPAN.engine,
                name: 'db.query policy_sets',
                kind: 3,
                startTimeUnixNano: nanos(t0 + 25),
                endTimeUnixNano: nanos(t0 + 35),
                status: { code: 1 },
              },
              {
                traceId: FAILED_TRACE,
                spanId: SPAN.evaluate,
                parentSpanId: SPAN.engine,
                name: 'policy.evaluate',
                kind: 1,
                startTimeUnixNano: nanos(t0 + 40),
                endTimeUnixNano: nanos(t0 + 180),
                attributes: [attr('policy.rule', 'R-7'), attr('policy.set', 'payments-v3'), attr('component.purl', 'pkg:npm/lodash@4.17.20')],
                events: [{ name: 'rule.matched', timeUnixNano: nanos(t0 + 170), attributes: [attr('rule', 'R-7')] }],
                status: { code: 2, message: DENIAL },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** telemetry-core's HTTP duration buckets (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 90, 120, 300];

/**
 * policy-engine's HTTP server metrics as telemetry-core records them, a cumulative sample a
 * minute over the last ten minutes: 100 requests a minute, all within 100 ms, 10 of them 5xx —
 * a 100× burn of its availability SLO's 0.1% budget, fast enough for its latency SLO.
 */
function seedMetrics(now: number) {
  const times = Array.from({ length: 11 }, (_, i) => now - (10 - i) * 60_000);
  const start = nanos(times[0]! - 1000);
  const attributes = [attr('stella.tenant_id', 'acme'), attr('http.route', '/evaluate'), attr('http.request.method', 'POST')];
  const fast = DURATION_BUCKETS.indexOf(0.1);
  return {
    resourceMetrics: [
      {
        resource: resource('policy-engine'),
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: times.map((t, i) => ({
                    attributes,
                    startTimeUnixNano: start,
                    timeUnixNano: nanos(t),
                    count: String(i * 100),
                    sum: i * 100 * 0.08,
                    bucketCounts: [...DURATION_BUCKETS, Infinity].map((_, b) => String(b === fast ? i * 100 : 0)),
                    explicitBounds: DURATION_BUCKETS,
                  })),
                },
              },
              {
                name: 'http.server.request.errors',
                unit: '',
                sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: times.map((t, i) => ({ attributes, startTimeUnixNano: start, timeUnixNano: nanos(t), asDouble: i * 10 })) },
              },
            ],
          },
        ],
      },
    ],
  };
}

function seedLogs(now: number) {
  const t0 = now - 20_000;
  const line = (ms: number, severity: [number, string], body: string, spanId?: string) => ({
    timeUnixNano: nanos(ms),
    severityNumber: severity[0],
    severityText: severity[1],
    body: { stringValue: body },
    ...(spanId ? { traceId: FAILED_TRACE, spanId } : {}),
  });
  const INFO: [number, string] = [9, 'INFO'];
  const ERROR: [number, string] = [17, 'ERROR'];
  return {
    resourceLogs: [
      {
        resource: resource('policy-engine'),
        scopeLogs: [{ logRecords: [line(t0 + 30, INFO, 'evaluating policy set payments-v3 for sbom sbom-42', SPAN.engine), line(t0 + 179, ERROR, `policy evaluation failed: ${DENIAL}`, SPAN.evaluate)] }],
      },
      { resource: resource('api-gateway'), scopeLogs: [{ logRecords: [line(t0 + 239, ERROR, 'POST /policy/evaluate answered 500', SPAN.gateway), line(now - 39_000, INFO, 'GET /sbom/sbom-1 answered 200')] }] },
    ],
  };
}

describe.skipIf(!runBrowserSuites)('the Console in a browser', () => {
  let workDir: string;
  let service: RunningService | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let signInToken: string;
  let operatorToken: string;
  const consoleLines: string[] = [];
  const pageErrors: string[] = [];
  const apiRequests: Request[] = [];

  beforeAll(async () => {
    requireChromium();
    workDir = mkdtempSync(join(tmpdir(), 'stella-console-e2e-'));
    const consoleDir = join(workDir, 'console');
    const dataDir = join(workDir, 'service');
    await buildConsole(consoleDir);
    service = await startService(dataDir, consoleDir);

    const now = Date.now();
    const [writeToken, userToken, opsToken] = await Promise.all([
      mintToken(dataDir, ['stella:telemetry:write#tenant/acme']),
      mintToken(dataDir, ['stella:obs:read#tenant/acme', 'stella:timeline:read#tenant/globex']),
      mintToken(dataDir, ['stella:obs:read#tenant/stella-ops']),
    ]);
    signInToken = userToken;
    operatorToken = opsToken;
    // Metrics first: the SLO job evaluates the tenants it knows, and acme becomes known with its first write.
    for (const [signal, body] of [['metrics', seedMetrics(now)], ['traces', seedTraces(now)], ['logs', seedLogs(now)]] as const) {
      const res = await fetch(`${service.otlpUrl}/v1/${signal}`, { method: 'POST', headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, await res.text()).toBe(200);
    }

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/obs/') || path.startsWith('/auth/')) apiRequests.push(request);
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (service && service.child.exitCode === null) {
      const exited = new Promise((resolve) => service!.child.once('exit', resolve));
      service.child.kill('SIGTERM');
      await exited;
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it('signs in with a token minted by stella auth token, kept in the tab only', async () => {
    const response = await page.goto(`${service!.url}/console/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.getByRole('heading', { name: 'Sign in to the StellaOps Console' }).waitFor();
    await page.getByLabel('Access token').fill(`Bearer ${signInToken}\n`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Observability Hub' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('stellaops.console.token'))).toBe(signInToken);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(signInToken.slice(0, 20));
    expect(await page.getByRole('banner').getByText('Signed in as dev-user').count()).toBe(1);
    // The tenant switcher offers the token's tenants and no other.
    expect(await page.getByLabel('Tenant').locator('option').allTextContents()).toEqual(['acme', 'globex']);
  }, 60_000);

  it("shows the tenant's real health, failing routes and SLOs, each call with its own traceparent", async () => {
    const health = page.getByRole('region', { name: 'Service health' });
    const gateway = health.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'api-gateway' }) });
    await gateway.waitFor();
    expect(await gateway.getByText('degraded', { exact: true }).count()).toBe(1);
    // 1 failed of 7 requests.
    expect(await gateway.getByText('14.3 %').count()).toBe(1);
    const engine = health.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'policy-engine' }) });
    expect(await engine.getByText('100.0 %').count()).toBe(1);

    const failing = page.getByRole('region', { name: 'Top failing routes' });
    const rows = failing.getByRole('row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(3);
    expect(await failing.getByRole('rowheader').allTextContents()).toEqual(expect.arrayContaining(['/policy/evaluate', '/evaluate']));

    // policy-engine's 5xx burn its availability budget 100×: a page-level burn, first in the table; its latency SLO is met.
    const slos = page.getByRole('region', { name: 'SLOs' });
    await slos.getByText(/Evaluated .* from the embedded metrics/).waitFor();
    expect(await slos.getByRole('alert').count()).toBe(0);
    const sloRows = slos.getByRole('table').getByRole('row');
    expect(await sloRows.nth(1).getByRole('rowheader').textContent()).toContain('policy-engine answers without server errors');
    const burning = await sloRows.nth(1).allInnerTexts();
    expect(burning.join(' ')).toMatch(/burning \(page\)\s+90\.00 % \/ 99\.90 % over 30d\s+none: 100\.0× the budget spent\s+100\.0× \/ 100\.0× firing/);
    expect(await sloRows.filter({ hasText: 'policy-engine answers within 2 s' }).getByText('ok', { exact: true }).count()).toBe(1);
    expect(await slos.getByText(/\d+ SLOs without data/).count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'console-hub.png'), fullPage: true });

    // CON-4: every call carried a sampled traceparent of its own, logged to the browser console; the footer shows the last one.
    const sent = apiRequests.map((r) => ({ path: new URL(r.url()).pathname, traceparent: r.headers()['traceparent'] ?? '' }));
    expect(sent.map((s) => s.path)).toEqual(expect.arrayContaining(['/auth/whoami', '/obs/health', '/obs/slo', '/obs/routes']));
    for (const s of sent) expect(s.traceparent, s.path).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceIds = sent.map((s) => s.traceparent.split('-')[1]!);
    expect(new Set(traceIds).size).toBe(traceIds.length);
    for (const s of sent) expect(consoleLines.some((l) => l.includes(`GET ${s.path}`) && l.includes(`trace_id=${s.traceparent.split('-')[1]}`)), s.path).toBe(true);
    // A production build: React's development messages would mean the build ran in the wrong mode.
    expect(consoleLines.filter((l) => l.includes('React DevTools'))).toEqual([]);
    const footerId = await page.getByTestId('last-trace-id').textContent();
    expect(traceIds).toContain(footerId);
    expect(consoleLines.join('\n')).not.toContain(signInToken);

    // The service kept its span of that call under that very trace id (its own telemetry, operator tenant).
    await expect
      .poll(
        async () => (await fetch(`${service!.url}/obs/trace/${footerId}`, { headers: { authorization: `Bearer ${operatorToken}` } })).status,
        { timeout: 30_000, interval: 500 },
      )
      .toBe(200);
  }, 90_000);

  it('opens a trace by its Trace ID: the waterfall with the first error selected, its attributes and its logs', async () => {
    await page.getByLabel('Trace ID').fill(FAILED_TRACE.toUpperCase());
    await page.getByRole('button', { name: 'Open trace' }).click();
    await page.getByRole('heading', { name: 'Waterfall' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/trace/${FAILED_TRACE}`);

    const spans = page.getByRole('list', { name: 'Spans in call order' }).getByRole('listitem');
    expect(await spans.count()).toBe(4);
    expect((await spans.allTextContents()).map((t) => t.split(/\s/)[0])).toEqual(['POST', 'POST', 'db.query', 'policy.evaluate']);
    const firstError = spans.filter({ hasText: 'first error' });
    expect(await firstError.count()).toBe(1);
    expect(await firstError.textContent()).toContain('policy.evaluate');
    expect(await firstError.getAttribute('class')).toContain('first-error');
    expect(await firstError.getByRole('button').getAttribute('aria-pressed')).toBe('true');
    expect(await spans.filter({ hasText: /^POST/ }).first().getAttribute('class')).toContain('error');

    const details = page.getByRole('region', { name: 'Span details' });
    expect(await details.getByRole('heading', { level: 3 }).textContent()).toContain('policy.evaluate');
    expect(await details.getByText(`ERROR: ${DENIAL}`).count()).toBe(1);
    const attributes = details.getByRole('table', { name: 'Span attributes' });
    expect(await attributes.getByRole('row', { name: /policy\.rule\s+R-7/ }).count()).toBe(1);
    expect(await attributes.getByRole('row', { name: /component\.purl\s+pkg:npm\/lodash@4\.17\.20/ }).count()).toBe(1);
    await details.getByText(`policy evaluation failed: ${DENIAL}`).waitFor();

    const traceLogs = page.getByRole('region', { name: 'Logs of this trace' });
    await traceLogs.getByRole('table').waitFor();
    expect(await traceLogs.getByRole('row').count()).toBe(4);
    const highlighted = traceLogs.locator('tr.highlighted');
    expect(await highlighted.count()).toBe(1);
    expect(await highlighted.textContent()).toContain(DENIAL);
    await page.screenshot({ path: join(ARTIFACTS, 'console-trace.png'), fullPage: true });

    // Keyboard: the arrow keys move between spans, Enter shows one.
    await spans.first().getByRole('button').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate('document.activeElement?.textContent')).toContain('db.query');
    await page.keyboard.press('Enter');
    expect(await details.getByRole('heading', { level: 3 }).textContent()).toContain('db.query');
    expect(await details.getByText('No log line was written under this span.').count()).toBe(1);
  }, 60_000);

  it('searches logs within the guardrails and opens a line\'s trace', async () => {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Log search' }).click();
    await page.getByRole('heading', { name: 'Log search' }).waitFor();
    await page.getByLabel('Rows').fill('5000');
    await page.getByRole('button', { name: 'Search logs' }).click();
    expect(await page.getByText('From 1 to 1000 rows; narrow the search to see fewer.').count()).toBe(1);
    expect(await page.getByLabel('Rows').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Rows').fill('50');
    await page.getByLabel('Text contains').fill('denied');
    await page.getByLabel('Lowest severity').selectOption('ERROR');
    await page.getByRole('button', { name: 'Search logs' }).click();
    const results = page.getByRole('region', { name: 'Results' });
    await results.getByText('1 line between').waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('denied');
    expect(await results.getByRole('cell', { name: `policy evaluation failed: ${DENIAL}` }).count()).toBe(1);
    await results.getByRole('link', { name: new RegExp(`open trace ${FAILED_TRACE}`) }).click();
    await page.getByRole('heading', { name: 'Waterfall' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/trace/${FAILED_TRACE}`);
  }, 60_000);

  it("shows a 403 with the service's explanation when the tenant is not granted", async () => {
    await page.getByLabel('Tenant').selectOption('globex');
    const denial = page.getByRole('alert').filter({ hasText: 'Access denied' }).first();
    await denial.waitFor();
    expect(await denial.textContent()).toContain('the token grants this action for other tenants but not for tenant "globex"; it needs stella:obs:read#tenant/globex');
    expect(await denial.getByText('auth.tenant_denied').count()).toBe(1);
    await page.getByRole('link', { name: 'Observability Hub' }).click();
    await page.getByRole('region', { name: 'Service health' }).getByRole('alert').waitFor();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'stella:obs:read#tenant/globex' }).count()).toBe(3);
    expect(await page.evaluate(() => sessionStorage.getItem('stellaops.console.tenant'))).toBe('globex');
    await page.screenshot({ path: join(ARTIFACTS, 'console-denied.png'), fullPage: true });
  }, 60_000);

  it('has landmarks and a label on every control, and no CSP violation or script error', async () => {
    for (const role of ['banner', 'main', 'contentinfo', 'search'] as const) expect(await page.getByRole(role).count(), role).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Console' }).count()).toBe(1);
    // Run in the page (the test itself has no DOM types): controls with neither a <label>, an aria-label nor text.
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label') && !(el.textContent ?? '').trim())
      .map((el) => el.outerHTML.slice(0, 120))`);
    expect(unlabelled).toEqual([]);
    expect(consoleLines.filter((l) => /Content Security Policy|Refused to/.test(l))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
