/**
 * What the Console's browser suites share: Debian's Chromium driven by playwright-core, the
 * Console built from its sources the way `npm run build` builds it, tokens minted with
 * `stella auth token` as a user would, sign-in, and the artifacts folder for screenshots.
 *
 * Without /usr/bin/chromium the suites are skipped with a message, except under CI=true, where
 * they fail: `.ci/run` installs Debian's `chromium`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CI = process.env['CI'] === 'true';
export const haveChromium = existsSync(CHROMIUM);
/** Run the browser suites: Chromium is here, or CI requires it (and the suite fails without it). */
export const runBrowserSuites = haveChromium || CI;
if (!haveChromium && !CI) console.warn(`SKIPPING the Console browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium; CI=true makes this a failure)`);

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const STELLA = join(ROOT, 'packages/cli/bin/stella.js');
/** Screenshots of each view (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

export function requireChromium(): void {
  if (!haveChromium) throw new Error(`no Chromium at ${CHROMIUM}: CI=true requires it (.ci/run installs Debian's chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
}

/** The Console as it is in the working tree, built into `outDir` the way `npm run build` builds it. */
export async function buildConsole(outDir: string): Promise<void> {
  const { build } = await import('vite');
  // Vite takes the build's mode from NODE_ENV, which the test runner sets to "test".
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({ configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
  }
}

/** `stella auth token` against the service's data directory: prints only the token. */
export function mintToken(dataDir: string, scopes: string[], subject?: string): Promise<string> {
  const args = [STELLA, 'auth', 'token', '--data-dir', dataDir, '--ttl', '1h', ...scopes.flatMap((s) => ['--scope', s]), ...(subject ? ['--subject', subject] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`stella auth token failed: ${stderr}`)) : resolve(stdout.trim())));
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A page that records what the browser console and uncaught errors said. */
export interface WatchedPage {
  page: Page;
  consoleLines: string[];
  pageErrors: string[];
}

export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const watched: WatchedPage = { page, consoleLines: [], pageErrors: [] };
  page.on('console', (message) => watched.consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  return watched;
}

/** Signs in through the form, as a user pastes a token, and waits for the hub. */
export async function signIn(page: Page, baseUrl: string, token: string, tenant?: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Observability Hub' }).waitFor();
  if (tenant) await page.getByLabel('Tenant').selectOption(tenant);
}
