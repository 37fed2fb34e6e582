/**
 * The Forensics Explorer's evidence and attestation views on the demo's data: acme's snapshots
 * in the evidence list, a bundle verified by the service and its archive downloaded byte for
 * byte, the Create Snapshot wizard making a snapshot of globex's evaluation that verifies (and
 * explaining a refusal), acme's and globex's evaluations compared — the differences checked
 * against the bundles' own files, read here from their archives — and the demo's job attestation
 * verified by the service, then as an envelope file by the browser's WebCrypto, with its
 * artifact, and refused once tampered with.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { ARTIFACTS, ROOT, type WatchedPage } from './browser-kit.js';
import { USER_SCOPES, type DemoConsole } from './demo-console.js';

/** Screenshots the docs show, copied from ARTIFACTS when STELLA_UPDATE_DOC_IMAGES=1. */
const DOC_IMAGES = join(ROOT, 'docs/images');

/**
 * The whole page into ARTIFACTS; with `doc`, also the browser window — scrolled to `doc.at` when
 * given, else at the top — into docs/images when STELLA_UPDATE_DOC_IMAGES=1.
 */
async function screenshot(page: Page, name: string, doc?: { name: string; at?: Locator }): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
  if (doc && process.env['STELLA_UPDATE_DOC_IMAGES'] === '1') {
    mkdirSync(DOC_IMAGES, { recursive: true });
    if (doc.at) await doc.at.evaluate((el) => (el as unknown as { scrollIntoView(options: { block: string }): void }).scrollIntoView({ block: 'start' }));
    else await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(DOC_IMAGES, doc.name) });
  }
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** The entries of a ustar archive (a bundle archive has regular files only). */
function untar(archive: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= archive.length; ) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (offset: number, length: number): string => {
      const raw = header.subarray(offset, offset + length);
      const end = raw.indexOf(0);
      return raw.subarray(0, end < 0 ? length : end).toString('utf8');
    };
    const prefix = field(345, 155);
    const path = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim(), 8);
    out.set(path, archive.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Controls in the main content without an accessible name. */
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

/** Landmarks, a name on every control, no script error and no CSP violation. */
async function checkPage(watched: WatchedPage): Promise<void> {
  const { page } = watched;
  for (const role of ['banner', 'main', 'contentinfo'] as const) expect(await page.getByRole(role).count(), role).toBe(1);
  expect(await unlabelled(page)).toEqual([]);
  expect(watched.consoleLines.filter((l) => /Content Security Policy|Refused to/.test(l))).toEqual([]);
  expect(watched.pageErrors).toEqual([]);
}

interface Bundle {
  bundle_id: string;
  kind: string;
  case_id: string;
  resource_id: string | null;
  created_at: string;
}

interface Finding {
  advisory_id: string;
  purl: string;
  severity: string;
  vex_status: string;
}

interface Decision {
  advisory_id: string;
  purl: string;
  effect: string;
  rule_id: string;
}

export function evidenceScenarios(demo: () => DemoConsole): void {
  let token: string | undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'stella-console-evidence-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** The service's API with a token of the Console user's scopes, as `tenant`. */
  async function api(path: string, tenant: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    token ??= await demo().token(USER_SCOPES);
    return fetch(`${demo().url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': tenant, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
  }
  async function json<T>(path: string, tenant: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await api(path, tenant, init);
    expect(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`).toBe(true);
    return (await res.json()) as T;
  }
  /** A bundle's files as its archive holds them (paths under files/). */
  async function bundleFiles(tenant: string, bundleId: string): Promise<Map<string, Buffer>> {
    const res = await api(`/evidence/${bundleId}/archive`, tenant);
    expect(res.status).toBe(200);
    return untar(Buffer.from(await res.arrayBuffer()));
  }

  const acmeSnapshot = (kind: string) => {
    const s = demo().demo.evidence?.snapshots.find((x) => x.kind === kind);
    if (!s?.bundle_id) throw new Error(`the demo made no ${kind} snapshot of acme`);
    return s as typeof s & { bundle_id: string };
  };
  const evaluationOf = (tenant: string): string => {
    const id = demo().demo.runs.find((r) => r.plan.tenant === tenant)?.evaluation.result?.evaluation_id;
    if (!id) throw new Error(`the demo has no evaluation of ${tenant}`);
    return id;
  };
  /** globex's evaluation bundle: the one the wizard made, or one made here. */
  async function globexEvaluationBundle(): Promise<string> {
    const evaluation = evaluationOf('globex');
    const { bundles } = await json<{ bundles: Bundle[] }>(`/evidence?resource_id=${evaluation}`, 'globex');
    const found = bundles.find((b) => b.kind === 'evaluation');
    if (found) return found.bundle_id;
    const made = await json<Bundle>('/evidence/snapshot', 'globex', { method: 'POST', body: { kind: 'evaluation', resource_id: evaluation, case_id: 'console-compare' } });
    return made.bundle_id;
  }

  it("lists acme's bundles with kind, case, resource, root and signer, filtered by case and kind", async () => {
    const watched = await demo().signedIn();
    const { page } = watched;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Evidence' }).click();
    await page.getByRole('heading', { name: 'Evidence', level: 1 }).waitFor();
    const table = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Merkle root' }) });
    await table.waitFor();
    const listed = await json<{ bundles: (Bundle & { root_hash: string; signer_key_id: string })[] }>('/evidence?limit=500', 'acme');
    for (const snapshot of demo().demo.evidence!.snapshots) {
      const row = page.locator(`tr[data-bundle-id="${snapshot.bundle_id}"]`);
      await row.waitFor();
      const text = await row.innerText();
      const bundle = listed.bundles.find((b) => b.bundle_id === snapshot.bundle_id)!;
      expect(text).toContain(snapshot.kind === 'evaluation' ? 'Evaluation bundle' : 'Job capsule');
      expect(text).toContain('demo-acme');
      expect(text).toContain(snapshot.resource);
      expect(text).toContain(bundle.root_hash.slice(0, 12));
      expect(text).toContain(bundle.signer_key_id.slice(0, 12));
      expect(text).toMatch(/retained until/);
    }
    expect(await page.locator('tbody tr[data-bundle-id]').count()).toBe(listed.bundles.length);
    await screenshot(page, 'demo-evidence.png', { name: 'console-evidence.png' });

    // Case and kind filters, kept in the URL.
    await page.getByLabel('Case', { exact: true }).fill('demo-acme');
    await page.getByLabel('Kind', { exact: true }).selectOption('evaluation');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/console\/evidence\?case_id=demo-acme&kind=evaluation$/);
    await page.getByRole('table').getByText(/in case demo-acme, evaluation bundles/).waitFor();
    const ids = await page.locator('tbody tr[data-bundle-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-bundle-id')));
    expect(ids).toContain(acmeSnapshot('evaluation').bundle_id);
    expect(ids).not.toContain(acmeSnapshot('job-capsule').bundle_id);
    expect(ids).toEqual(listed.bundles.filter((b) => b.case_id === 'demo-acme' && b.kind === 'evaluation').map((b) => b.bundle_id));
    await checkPage(watched);
    await page.context().close();
  }, 90_000);

  it('verifies a bundle, shows its manifest and a file checked against it, and downloads the archive byte for byte', async () => {
    const watched = await demo().signedIn();
    const { page } = watched;
    const snapshot = acmeSnapshot('evaluation');
    await page.goto(`${demo().url}/console/evidence?case_id=demo-acme`);
    await page.locator(`tr[data-bundle-id="${snapshot.bundle_id}"]`).getByRole('link').first().click();
    await page.waitForURL(`**/console/evidence/${snapshot.bundle_id}`);
    const verdict = page.getByTestId('bundle-verification');
    await verdict.getByText('Verified', { exact: true }).waitFor();
    const detail = await json<{ bundle: { root_hash: string; signer_key_id: string }; manifest: { files: { path: string; sha256: string }[] } }>(`/evidence/${snapshot.bundle_id}`, 'acme');
    expect(await page.getByTestId('merkle-root').innerText()).toBe(detail.bundle.root_hash);
    expect(await page.locator('main').innerText()).toContain(detail.bundle.signer_key_id);
    const files = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'SHA-256' }) });
    for (const f of detail.manifest.files) expect(await files.getByRole('row').filter({ hasText: f.path }).filter({ hasText: f.sha256 }).count(), f.path).toBe(1);
    expect(await files.getByRole('row').filter({ hasText: 'policies/baseline.policy.json' }).innerText()).toContain('application/json');

    // Verify again: POST /evidence/verify {bundle_id}.
    const verified = page.waitForResponse((r) => new URL(r.url()).pathname === '/evidence/verify' && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const answer = (await (await verified).json()) as { verification: { ok: boolean } };
    expect(answer.verification.ok).toBe(true);
    await verdict.getByText(/verified again by the service/).waitFor();

    // A file's content, pretty-printed, its SHA-256 checked here against the manifest.
    await page.getByRole('button', { name: 'View outputs/decisions.json' }).click();
    await page.getByTestId('file-digest-check').waitFor();
    expect(await page.getByTestId('file-digest-check').innerText()).toContain('SHA-256 matches the manifest');
    const shown = await page.getByTestId('file-content').innerText();
    const archive = await bundleFiles('acme', snapshot.bundle_id);
    expect(JSON.parse(shown)).toEqual(JSON.parse(archive.get('files/outputs/decisions.json')!.toString('utf8')));
    expect(shown).toContain('\n  {\n    "advisory_id"');
    await screenshot(page, 'demo-bundle.png', { name: 'console-bundle.png' });
    await screenshot(page, 'demo-bundle-file.png', { name: 'console-bundle-file.png', at: page.getByRole('region', { name: 'outputs/decisions.json' }) });

    // The archive: the same bytes the demo's CLI downloaded.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download archive' }).click();
    const saved = join(workDir, `${snapshot.bundle_id}.tar`);
    const file = await download;
    expect(file.suggestedFilename()).toBe(`${snapshot.bundle_id}.tar`);
    await file.saveAs(saved);
    expect(sha256(readFileSync(saved))).toBe(sha256(readFileSync(snapshot.archive)));
    await page.getByRole('status').filter({ hasText: `Saved ${snapshot.bundle_id}.tar` }).waitFor();
    await checkPage(watched);
    await page.context().close();

    // Without stella:evidence:export the download is refused, and the Console says why.
    const reader = await demo().signedIn({ scopes: USER_SCOPES.filter((s) => !s.startsWith('stella:evidence:export')) });
    await reader.page.goto(`${demo().url}/console/evidence/${snapshot.bundle_id}`);
    await reader.page.getByRole('note').filter({ hasText: 'does not grant stella:evidence:export' }).waitFor();
    await reader.page.getByRole('button', { name: 'Download archive' }).click();
    const refusal = reader.page.getByRole('alert').filter({ hasText: 'the archive download' });
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/Access denied[\s\S]*stella:evidence:export[\s\S]*acme[\s\S]*HTTP 403/);
    await screenshot(reader.page, 'demo-bundle-denied.png');
    await reader.page.context().close();
  }, 120_000);

  it("creates a snapshot of globex's evaluation with the wizard, lands on the verified bundle, and explains a refusal", async () => {
    const watched = await demo().signedIn({ tenant: 'globex' });
    const { page } = watched;
    const evaluation = evaluationOf('globex');
    await page.goto(`${demo().url}/console/evidence`);
    await page.getByText('Tenant globex').waitFor();
    await page.getByRole('link', { name: 'Create snapshot' }).click();
    await page.waitForURL('**/console/evidence/new');
    await page.getByRole('heading', { name: 'Step 1 of 4: Kind' }).waitFor();

    // Next without a kind: the step says what is missing.
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('alert').filter({ hasText: 'Choose what to snapshot.' }).waitFor();
    await page.getByLabel(/Evaluation bundle/).check();
    await page.getByRole('button', { name: 'Next' }).click();
    const step2 = page.getByRole('heading', { name: 'Step 2 of 4: Resource' });
    await step2.waitFor();
    // Focus follows the step.
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Step 2 of 4: Resource');
    // globex's evaluation is offered from its timeline, and acme's is not.
    const recent = page.getByRole('group', { name: 'Recent evaluations on the timeline' });
    await recent.getByLabel(new RegExp(evaluation)).waitFor();
    expect(await recent.getByText(evaluationOf('acme')).count()).toBe(0);
    await recent.getByLabel(new RegExp(evaluation)).check();
    expect(await page.getByLabel('Evaluation id').inputValue()).toBe(evaluation);
    // Enter in the field goes on, as Next does.
    await page.getByLabel('Evaluation id').press('Enter');
    await page.getByRole('heading', { name: 'Step 3 of 4: Case' }).waitFor();
    await page.getByLabel('Case id').fill('console-globex');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 4 of 4: Review and create' }).waitFor();
    const review = await page.locator('form.wizard').innerText();
    expect(review).toContain(`evaluation/${evaluation}`);
    expect(review).toContain('console-globex');
    expect(review).toContain('globex');
    await checkPage(watched);
    await screenshot(page, 'demo-snapshot.png', { name: 'console-snapshot.png' });

    const created = page.waitForResponse((r) => new URL(r.url()).pathname === '/evidence/snapshot');
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    const response = await created;
    expect(response.status()).toBe(201);
    const bundle = (await response.json()) as Bundle;
    expect(bundle).toMatchObject({ kind: 'evaluation', resource_id: evaluation, case_id: 'console-globex' });
    await page.waitForURL(`**/console/evidence/${bundle.bundle_id}`);
    await page.getByTestId('bundle-verification').getByText('Verified', { exact: true }).waitFor();
    expect(await page.getByTestId('bundle-id').innerText()).toBe(bundle.bundle_id);
    // The service agrees, and the bundle is globex's.
    expect((await json<{ verification: { ok: boolean } }>('/evidence/verify', 'globex', { method: 'POST', body: { bundle_id: bundle.bundle_id } })).verification.ok).toBe(true);
    expect((await api(`/evidence/${bundle.bundle_id}`, 'acme')).status).toBe(404);
    await screenshot(page, 'demo-snapshot-created.png');

    // A resource the service knows nothing about: its 422, explained, with the step to fix.
    await page.goto(`${demo().url}/console/evidence/new?kind=evaluation&resource_id=eval-unknown-0000&case_id=console-globex`);
    await page.getByRole('heading', { name: 'Step 4 of 4: Review and create' }).waitFor();
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'the snapshot was not created' });
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/holds nothing about evaluation\/eval-unknown-0000[\s\S]*evidence\.inputs_missing[\s\S]*HTTP 422/);
    await page.getByText('The service holds nothing about this resource').waitFor();
    await screenshot(page, 'demo-snapshot-refused.png', { name: 'console-snapshot-refused.png' });
    await page.getByRole('button', { name: 'Go to resource' }).click();
    await page.getByRole('heading', { name: 'Step 2 of 4: Resource' }).waitFor();
    await checkPage(watched);
    await page.context().close();
  }, 120_000);

  it("compares acme's and globex's evaluations: the findings, VEX and decisions each bundle's own files hold", async () => {
    const acmeBundle = acmeSnapshot('evaluation').bundle_id;
    const globexBundle = await globexEvaluationBundle();
    // What the bundles hold, read here from their archives (the page reads the files API).
    const read = async (tenant: string, id: string) => {
      const files = await bundleFiles(tenant, id);
      const parse = <T>(path: string): T => JSON.parse(files.get(`files/${path}`)!.toString('utf8')) as T;
      return { findings: parse<Finding[]>('inputs/findings.json'), decisions: parse<Decision[]>('outputs/decisions.json') };
    };
    const [a, b] = [await read('acme', acmeBundle), await read('globex', globexBundle)];
    const key = (f: { advisory_id: string; purl: string }): string => `${f.advisory_id} ${f.purl}`;
    const aKeys = new Set(a.findings.map(key));
    const bKeys = new Set(b.findings.map(key));
    const added = b.findings.filter((f) => !aKeys.has(key(f)));
    const removed = a.findings.filter((f) => !bKeys.has(key(f)));
    // The two demo tenants ship different SBOMs: each has findings the other lacks.
    expect(added.length).toBeGreaterThan(0);
    expect(removed.length).toBeGreaterThan(0);

    const watched = await demo().signedIn();
    const { page } = watched;
    await page.goto(`${demo().url}/console/evidence`);
    await page.getByRole('link', { name: 'Compare evaluations' }).click();
    await page.waitForURL('**/console/evidence/compare');
    // Pick A on acme and B on globex, each bundle of its own tenant.
    const pickA = page.getByRole('group', { name: 'Evaluation A (before)' });
    const pickB = page.getByRole('group', { name: 'Evaluation B (after)' });
    await pickA.getByLabel('Tenant').selectOption('acme');
    await pickA.getByLabel('Evaluation bundle').locator(`option[value="${acmeBundle}"]`).waitFor({ state: 'attached' });
    await pickA.getByLabel('Evaluation bundle').selectOption(acmeBundle);
    await pickB.getByLabel('Tenant').selectOption('globex');
    await pickB.getByLabel('Evaluation bundle').locator(`option[value="${globexBundle}"]`).waitFor({ state: 'attached' });
    await pickB.getByLabel('Evaluation bundle').selectOption(globexBundle);
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.waitForURL(`**/console/evidence/compare?a=acme%2F${acmeBundle}&b=globex%2F${globexBundle}`);

    const findings = page.getByRole('region', { name: /^Findings/ });
    await findings.waitFor();
    const heading = await findings.getByRole('heading').first().innerText();
    expect(heading).toContain(`${added.length} added, ${removed.length} removed`);
    const addedTable = findings.getByRole('table', { name: 'Findings: only in B (added)' });
    const removedTable = findings.getByRole('table', { name: 'Findings: only in A (removed)' });
    expect(await addedTable.locator('tbody tr').count()).toBe(added.length);
    expect(await removedTable.locator('tbody tr').count()).toBe(removed.length);
    for (const f of [added[0]!, added.at(-1)!]) expect(await addedTable.getByRole('row').filter({ hasText: f.advisory_id }).filter({ hasText: f.purl }).first().innerText()).toContain(f.severity);
    for (const f of [removed[0]!, removed.at(-1)!]) expect(await removedTable.getByRole('row').filter({ hasText: f.advisory_id }).filter({ hasText: f.purl }).count()).toBeGreaterThan(0);

    // Decisions: the same keys, with their effects and rules from each bundle.
    const decisions = page.getByRole('region', { name: /^Decisions/ });
    const aDecisionKeys = new Set(a.decisions.map(key));
    const addedDecisions = b.decisions.filter((d) => !aDecisionKeys.has(key(d)));
    expect(await decisions.getByRole('table', { name: 'Decisions: only in B (added)' }).locator('tbody tr').count()).toBe(addedDecisions.length);
    const denied = addedDecisions.find((d) => d.effect === 'deny') ?? addedDecisions[0]!;
    const row = await decisions.getByRole('table', { name: 'Decisions: only in B (added)' }).getByRole('row').filter({ hasText: denied.advisory_id }).filter({ hasText: denied.purl }).first().innerText();
    expect(row).toContain(denied.effect);
    expect(row).toContain(denied.rule_id);

    // VEX: a status one of B's findings carried, which A has not.
    const aVex = new Set(a.findings.filter((f) => f.vex_status !== 'none').map(key));
    const vexAdded = b.findings.find((f) => f.vex_status !== 'none' && !aVex.has(key(f)));
    expect(vexAdded, 'a VEX status in globex only').toBeDefined();
    const vex = page.getByRole('region', { name: /^VEX/ });
    const vexRow = await vex.getByRole('table', { name: 'VEX: only in B (added)' }).getByRole('row').filter({ hasText: vexAdded!.advisory_id }).filter({ hasText: vexAdded!.purl }).first().innerText();
    expect(vexRow).toContain(vexAdded!.vex_status);
    // Same policy and engine on both tenants.
    expect(await page.getByRole('table', { name: 'Policy', exact: true }).innerText()).toMatch(/version\s+baseline@\d+\s+baseline@\d+\s+same/);
    await screenshot(page, 'demo-evaluation-compare.png', { name: 'console-evaluation-compare.png', at: page.getByRole('heading', { name: /→/ }) });
    await checkPage(watched);
    await page.context().close();
  }, 120_000);

  it("verifies the demo's job attestation on the service, and its envelope in the browser — and refuses it tampered", async () => {
    const job = demo().demo.attestations.find((a) => a.subject.startsWith('job '));
    if (!job?.id) throw new Error('the demo recorded no job attestation');
    const watched = await demo().signedIn();
    const { page } = watched;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Attestations' }).click();
    // The tenant's recent attestations, from the timeline: the job's is one of them.
    const recent = page.getByRole('table', { name: 'Recently recorded attestations, newest first' });
    await recent.getByRole('link', { name: job.id }).click();
    await page.waitForURL(`**/console/attestations?id=${job.id}`);
    const verdict = page.getByTestId('attestation-verdict');
    await verdict.getByText('Verified', { exact: true }).waitFor();
    await verdict.getByText(/verified by the service \(POST \/attestations\/verify\)/).waitFor();
    const detail = await json<{ attestation: { signer_key_id: string; statement_path: string; subject_id: string }; statement: { subject: { name: string; digest: { sha256: string } }[]; predicate: { runDetails: { builder: { id: string } } } } }>(
      `/attestations/${job.id}`,
      'acme',
    );
    const main = await page.locator('main').innerText();
    expect(main).toContain('https://slsa.dev/provenance/v1');
    expect(main).toContain(detail.statement.predicate.runDetails.builder.id);
    expect(main).toContain(detail.attestation.signer_key_id);
    for (const s of detail.statement.subject) expect(main).toContain(s.digest.sha256);
    await screenshot(page, 'demo-attestation.png', { name: 'console-attestation.png' });

    // The envelope as stored (where the API's statement_path says, in the service's object store) and the job's outcome from its capsule.
    const envelope = readFileSync(join(demo().serviceDataDir, 'evidence', detail.attestation.statement_path), 'utf8');
    const capsule = await bundleFiles('acme', acmeSnapshot('job-capsule').bundle_id);
    const outcome = capsule.get('files/outputs/outcome.json')!;
    expect(detail.statement.subject.map((s) => s.digest.sha256)).toContain(sha256(outcome));
    const envelopeFile = join(workDir, 'statement.dsse.json');
    const outcomeFile = join(workDir, 'outcome.json');
    writeFileSync(envelopeFile, envelope);
    writeFileSync(outcomeFile, outcome);

    const browser = page.getByRole('region', { name: 'Verify an envelope in this browser' });
    const keyringRead = page.waitForResponse((r) => new URL(r.url()).pathname === '/evidence/keyring');
    const sent: string[] = [];
    page.on('request', (r) => sent.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await browser.getByLabel('DSSE envelope (JSON)').setInputFiles(envelopeFile);
    await browser.getByLabel('Artifact (optional)').setInputFiles(outcomeFile);
    await browser.getByRole('button', { name: 'Verify in this browser' }).click();
    await keyringRead;
    const result = page.getByTestId('browser-verdict');
    await result.getByText('Verified in this browser').waitFor();
    const checks = result.getByRole('list', { name: 'Checks' });
    const lines = await checks.getByRole('listitem').allTextContents();
    expect(lines.every((l) => l.startsWith('✓')), lines.join('\n')).toBe(true);
    expect(lines.join('\n')).toContain(`verifies with key ${detail.attestation.signer_key_id}`);
    expect(lines.join('\n')).toContain('is subject "outcome.json"');
    // Only the key ring was fetched: the files never left the browser.
    expect(sent.filter((s) => !s.startsWith('GET /evidence/keyring'))).toEqual([]);
    await screenshot(page, 'demo-attestation-browser.png', { name: 'console-attestation-browser.png', at: browser });

    // Tampered: the statement's subject digest changed, the signature kept.
    const parsed = JSON.parse(envelope) as { payload: string; payloadType: string; signatures: unknown[] };
    const statement = JSON.parse(Buffer.from(parsed.payload, 'base64').toString('utf8')) as { subject: { digest: { sha256: string } }[] };
    statement.subject[0]!.digest.sha256 = sha256('something else');
    const tamperedFile = join(workDir, 'tampered.dsse.json');
    writeFileSync(tamperedFile, JSON.stringify({ ...parsed, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
    await browser.getByLabel('DSSE envelope (JSON)').setInputFiles(tamperedFile);
    await browser.getByRole('button', { name: 'Verify in this browser' }).click();
    await result.getByText('Not verified').waitFor();
    const failed = (await result.getByRole('list', { name: 'Checks' }).getByRole('listitem').allTextContents()).join('\n');
    expect(failed).toMatch(/✗ Signature 1 by key [0-9a-f]{16}…: failed\. the signature does not verify signature_invalid/);
    expect(failed).toMatch(/✗ Trusted signer: failed\. no key of the key ring signed this envelope threshold_not_met/);
    expect(failed).toMatch(/✗ Artifact: failed\. outcome\.json \(sha256 [0-9a-f]{64}\) matches no subject of the statement subject_mismatch/);
    await screenshot(page, 'demo-attestation-tampered.png', { name: 'console-attestation-tampered.png', at: result });

    // A bundle's signed manifest, from its archive (the API): signed by the service, and naming the file given.
    const evaluationArchive = await bundleFiles('acme', acmeSnapshot('evaluation').bundle_id);
    const manifestFile = join(workDir, 'manifest.dsse.json');
    const decisionsFile = join(workDir, 'decisions.json');
    writeFileSync(manifestFile, evaluationArchive.get('manifest.dsse.json')!);
    writeFileSync(decisionsFile, evaluationArchive.get('files/outputs/decisions.json')!);
    await browser.getByLabel('DSSE envelope (JSON)').setInputFiles(manifestFile);
    await browser.getByLabel('Artifact (optional)').setInputFiles(decisionsFile);
    await browser.getByRole('button', { name: 'Verify in this browser' }).click();
    await result.getByText('Verified in this browser').waitFor();
    expect((await result.getByRole('list', { name: 'Checks' }).innerText())).toContain("is the bundle's file outputs/decisions.json");
    await checkPage(watched);
    await page.context().close();
  }, 120_000);
}
