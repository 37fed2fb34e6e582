/**
 * The Console on the demo's data, in a real browser: every view renders what the demo's journey
 * recorded — the hub, traces, the "why is this red" click-through from the injected failure, the
 * Forensics Explorer's timeline, the evidence viewer, the snapshot wizard, the evaluation
 * compare view and the attestation verifier. One demo run serves every group; each group signs
 * in on its own browser context. Screenshots go to packages/console/artifacts/ (git-ignored).
 */
import { describe } from 'vitest';
import { runBrowserSuites } from './browser/browser-kit.js';
import { useDemoConsole } from './browser/demo-console.js';
import { evidenceScenarios } from './browser/evidence.scenarios.js';
import { forensicsScenarios } from './browser/forensics.scenarios.js';
import { hubScenarios } from './browser/hub.scenarios.js';
import { traceScenarios } from './browser/trace.scenarios.js';

describe.skipIf(!runBrowserSuites)("the Console on the demo's data", () => {
  const demo = useDemoConsole();
  describe('Observability Hub', () => hubScenarios(demo));
  describe('traces and "why is this red?"', () => traceScenarios(demo));
  describe('Forensics Explorer: timeline', () => forensicsScenarios(demo));
  describe('Forensics Explorer: evidence and attestations', () => evidenceScenarios(demo));
});
