/**
 * The Observability Hub on the demo's data: real health, failing routes and SLOs of the tenant,
 * a "why is this red?" link on each red one, and the top noisy tenants for an operator only.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ARTIFACTS, openPage, type WatchedPage } from './browser-kit.js';
import type { DemoConsole } from './demo-console.js';

/** Signs in with a platform-wide token, which names no tenant: the operator types one. */
async function signedInOperator(demo: DemoConsole, scopes: string[]): Promise<WatchedPage & { tenantsCalls: string[] }> {
  const watched = await openPage(demo.browser);
  const { page } = watched;
  const tenantsCalls: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/obs/tenants') tenantsCalls.push(request.url());
  });
  await page.goto(`${demo.url}/console/`);
  await page.getByLabel('Access token').fill(await demo.token(scopes, 'operator'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Choose a tenant above to see its telemetry.').waitFor();
  await page.getByLabel('Tenant').fill('acme');
  await page.getByRole('button', { name: 'Switch' }).click();
  await page.getByRole('heading', { name: 'Observability Hub' }).waitFor();
  return { ...watched, tenantsCalls };
}

export function hubScenarios(demo: () => DemoConsole): void {
  it("shows acme's services, the SLO the injected failure burned, and its failing routes", async () => {
    const { page, pageErrors } = await demo().signedIn();
    const health = page.getByRole('region', { name: 'Service health' });
    await health.getByRole('heading', { name: 'sbom-service' }).waitFor();
    const slos = page.getByRole('region', { name: 'SLOs' });
    await slos.getByRole('table').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'demo-hub.png'), fullPage: true });
    // The demo's injected failure burned the SBOM ingest SLO's budget fast enough to page.
    const burned = slos.getByRole('row').filter({ hasText: 'SBOM ingest reaches the first component within 5 s' });
    expect(await burned.count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('puts one "why is this red?" link on each red tile, burning SLO and failing route, and no other', async () => {
    const { page, pageErrors } = await demo().signedIn();
    const health = page.getByRole('region', { name: 'Service health' });
    await health.getByRole('heading', { name: 'sbom-service' }).waitFor();
    const slos = page.getByRole('region', { name: 'SLOs' });
    await slos.getByRole('table').waitFor();
    const routes = page.getByRole('region', { name: 'Top failing routes' });
    await expect.poll(() => routes.getByText(/No route answered an error|Routes with the most errors/).count()).toBeGreaterThan(0);
    const why = /Why is this red\?/;

    // Tiles: exactly those not up.
    const tiles = health.getByRole('listitem');
    for (let i = 0; i < (await tiles.count()); i++) {
      const tile = tiles.nth(i);
      const red = (await tile.getByText(/^(degraded|down)$/).count()) > 0;
      expect(await tile.getByRole('link', { name: why }).count(), (await tile.getByRole('heading').textContent()) ?? '').toBe(red ? 1 : 0);
    }
    // SLOs: exactly those burning (page or ticket), each to its service.
    const rows = slos.getByRole('table').getByRole('row');
    let burning = 0;
    for (let i = 1; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      const isBurning = (await row.getByText(/^burning \((page|ticket)\)$/).count()) > 0;
      burning += isBurning ? 1 : 0;
      expect(await row.getByRole('link', { name: why }).count()).toBe(isBurning ? 1 : 0);
    }
    expect(burning).toBeGreaterThan(0);
    const sbom = slos.getByRole('row').filter({ hasText: 'SBOM ingest reaches the first component within 5 s' }).getByRole('link', { name: why });
    expect(await sbom.getAttribute('href')).toBe('/console/why?service=sbom-service');
    // Failing routes: one each.
    const routeRows = routes.getByRole('row');
    const failing = Math.max((await routeRows.count()) - 1, 0);
    expect(await routes.getByRole('link', { name: why }).count()).toBe(failing);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('shows the top noisy tenants to an operator (platform-wide token) and not to a tenant user', async () => {
    const operator = await signedInOperator(demo(), ['stella:obs:read']);
    const noisy = operator.page.getByRole('region', { name: 'Top noisy tenants' });
    await noisy.getByRole('table').waitFor();
    const tenants = await noisy.getByRole('rowheader').allTextContents();
    // Both demo tenants sent telemetry in the last hour; the selected one is marked.
    expect(tenants).toEqual(expect.arrayContaining(['acme (selected)', 'globex']));
    const acme = noisy.getByRole('row').filter({ has: operator.page.getByRole('rowheader', { name: 'acme (selected)' }) });
    const cells = (await acme.getByRole('cell').allTextContents()).slice(0, 5).map((c) => Number(c.replace(/,/g, '')));
    const [total, spans, , logs, points] = cells as [number, number, number, number, number];
    expect(spans).toBeGreaterThan(0);
    expect(total).toBe(spans + logs + points);
    expect(operator.tenantsCalls.length).toBeGreaterThan(0);
    for (const call of operator.tenantsCalls) expect(new URL(call).searchParams.get('window')).toBe('60');
    await operator.page.screenshot({ path: join(ARTIFACTS, 'console-hub-noisy-tenants.png'), fullPage: true });
    expect(operator.pageErrors).toEqual([]);
    await operator.page.context().close();

    // A tenant user: no section, and the Console never asks.
    const { page, pageErrors } = await demo().signedIn();
    const asked: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/obs/tenants') asked.push(request.url());
    });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('region', { name: 'SLOs' }).getByRole('table').waitFor();
    expect(await page.getByRole('region', { name: 'Top noisy tenants' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Top noisy tenants' }).count()).toBe(0);
    expect(asked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);
}
