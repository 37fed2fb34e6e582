/**
 * The Console on the demo's data: runs the reference workload's demo (`npm run demo`'s journey
 * for two tenants, the injected failures, evidence snapshots, attestations, incident mode) on
 * embedded defaults with the service serving a Console built from the working tree, then hands
 * each scenario group the running system, the demo's outcome and Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CONSOLE_USER_SCOPES, runDemo, type DemoResult } from '@stellaops/workload';
import { buildConsole, launchChromium, mintToken, openPage, requireChromium, signIn, type WatchedPage } from './browser-kit.js';

export const DEMO_TENANTS = ['acme', 'globex'] as const;

/** What the demo's sign-in command grants on each demo tenant (read everything, snapshot and export evidence), without its platform-wide read. */
export const USER_SCOPES = DEMO_TENANTS.flatMap((t) => CONSOLE_USER_SCOPES.map((s) => `${s}#tenant/${t}`));

export interface DemoConsole {
  /** The service's base URL (the Console is at `${url}/console`). */
  url: string;
  /** The service's data directory (its development token authority). */
  serviceDataDir: string;
  demo: DemoResult;
  browser: Browser;
  /** A token of the service's development authority. */
  token(scopes: string[], subject?: string): Promise<string>;
  /** A fresh browser context signed in with a token of `scopes` (default USER_SCOPES), on `tenant` (default acme). */
  signedIn(options?: { scopes?: string[]; subject?: string; tenant?: string }): Promise<WatchedPage>;
}

/** Registers the suite's set-up and tear-down; the returned function gives the running system to tests. */
export function useDemoConsole(): () => DemoConsole {
  let workDir: string | undefined;
  let demo: DemoResult | undefined;
  let running: DemoConsole | undefined;

  beforeAll(async () => {
    requireChromium();
    workDir = mkdtempSync(join(tmpdir(), 'stella-console-demo-'));
    const consoleDir = join(workDir, 'console');
    await buildConsole(consoleDir);
    demo = await runDemo({ dataDir: join(workDir, 'demo'), keepRunning: true, serviceEnv: { STELLA_CONSOLE_DIR: consoleDir } });
    if (!demo.ok || !demo.stack) throw new Error(`the demo failed: ${demo.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join('; ')}`);
    const stack = demo.stack;
    const serviceDataDir = join(stack.dataDir, 'service');
    const browser = await launchChromium();
    const token = (scopes: string[], subject?: string): Promise<string> => mintToken(serviceDataDir, scopes, subject);
    running = {
      url: stack.stellaUrl,
      serviceDataDir,
      demo,
      browser,
      token,
      async signedIn(options = {}) {
        const watched = await openPage(browser);
        await signIn(watched.page, stack.stellaUrl, await token(options.scopes ?? USER_SCOPES, options.subject), options.tenant ?? 'acme');
        return watched;
      },
    };
  }, 300_000);

  afterAll(async () => {
    await running?.browser.close();
    await demo?.stack?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  return () => {
    if (!running) throw new Error('the demo did not start (see the set-up error above)');
    return running;
  };
}
