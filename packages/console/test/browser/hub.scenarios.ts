/** The Observability Hub on the demo's data: real health, failing routes and SLOs of the tenant. */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ARTIFACTS } from './browser-kit.js';
import type { DemoConsole } from './demo-console.js';

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
}
