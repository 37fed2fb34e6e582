/** The short human summary printed at the end of the demo. */
import { isAbsolute, join, relative } from 'node:path';
import type { DemoResult } from './run-demo.js';
import { doraLine } from './dora-steps.js';
import { BROKEN_SOURCE, burn, BURN_PAIR, percent } from './slo-steps.js';

/** Paths under the working directory are shown relative to it, so the summary reads the same on every machine. */
function shown(path: unknown): string {
  const p = String(path ?? '?');
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : `./${rel}`;
}

/** A path as one shell word. */
function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** What the demo's Console user may do on each demo tenant: read everything, snapshot and export evidence. */
export const CONSOLE_USER_SCOPES = ['stella:obs:read', 'stella:timeline:read', 'stella:evidence:read', 'stella:evidence:create', 'stella:evidence:export', 'stella:attest:read'] as const;

/**
 * The Console's URL and the command that mints a token to sign in with: the service's development
 * authority (its data directory), the Console user's scopes on each demo tenant, and observability
 * reads platform-wide (the operator's view: top noisy tenants).
 */
export function consoleLines(stellaUrl: string, serviceDataDir: string, tenants: readonly string[]): string[] {
  const scopes = [...[...new Set(tenants)].flatMap((t) => CONSOLE_USER_SCOPES.map((s) => `${s}#tenant/${t}`)), 'stella:obs:read'].join(' ');
  return [`  console   ${stellaUrl}/console  (sign in with the token this prints:)`, `            npx stella auth token --data-dir ${shellWord(shown(serviceDataDir))} --ttl 8h --scope ${scopes}`];
}

export function renderSummary(r: DemoResult): string {
  const out: string[] = [];
  out.push(r.ok ? '✔ Demo passed' : '✘ Demo FAILED', '');
  out.push('What happened');
  for (const run of r.runs) {
    const e = run.evaluation.result;
    out.push(
      e
        ? `  ${run.plan.tenant.padEnd(7)} ${e.source_id}: ${e.components} components, ${e.findings} findings (VEX: ${Object.entries(e.vex_statuses).map(([k, v]) => `${v} ${k}`).join(', ')}), policy ${e.policy_version} → ${e.verdict.toUpperCase()} (${e.decisions.deny} deny, ${e.decisions.warn} warn, ${e.decisions.allow} allow)`
        : `  ${run.plan.tenant.padEnd(7)} evaluation ${run.evaluation.record.state}: ${run.evaluation.record.error?.code ?? ''}`,
    );
    if (e) out.push(`          sbom ${e.sbom_id}  evaluation ${e.evaluation_id}  export ${e.export_id}`, `          trace ${run.evaluation.job.trace_id}`);
  }
  const failure = r.runs.find((x) => x.failure)?.failure;
  const burnt = r.sloBurn;
  if (failure || burnt) out.push('', 'Something red to explain');
  if (burnt && burnt.failures.length > 0) {
    const first = burnt.failures[0]!;
    const codes = [...new Set(burnt.failures.map((f) => `${f.record.state}: ${f.record.error?.code ?? ''}`))].join(', ');
    out.push(`  injected: ${burnt.failures.length} jobs (evaluation.run of ${BROKEN_SOURCE.source_id}) of ${burnt.tenant} ${codes}`);
    out.push(`  ${first.record.error?.message ?? ''}`);
    out.push(`  trace ids ${burnt.failures.map((f) => f.job.trace_id).join(', ')}`);
  }
  if (failure) {
    out.push(`  job ${failure.job.job_id} (${failure.record.type}) ${failure.record.state}: ${failure.record.error?.code ?? ''}`);
    out.push(`  ${failure.record.error?.message ?? ''}`);
    out.push(`  trace id ${failure.job.trace_id}`);
  }
  if (burnt) {
    out.push('', `SLO burn (GET /obs/slo, tenant ${burnt.tenant})`);
    out.push(`  ${burnt.slo} (${burnt.service}): ${burnt.objective}, over ${burnt.period}`);
    const row = (when: string, x: typeof burnt.before | undefined): string =>
      x
        ? `  ${when.padEnd(19)} ${x.state.padEnd(5)} SLI ${percent(x.sli).padEnd(7)} burn rate ${BURN_PAIR.long}/${BURN_PAIR.short} ${`${burn(x.long_burn_rate)} / ${burn(x.short_burn_rate)}`.padEnd(11)} (page from ${x.burn_rate_threshold})  error budget remaining ${percent(x.budget_remaining)}`
        : `  ${when.padEnd(19)} (not read)`;
    out.push(row('before the failure', burnt.before), row('after the failure', burnt.after));
    const i = burnt.incident;
    if (i && burnt.breach?.incident === 'extended') {
      out.push(`  incident mode for ${burnt.tenant} (${i.service ?? 'all services'}) extended by SLO burn at ${burnt.breach.started_at} (on since ${i.started_at}, trigger ${i.trigger}, by ${i.started_by}, until ${i.expires_at})`);
    } else if (i) out.push(`  incident mode on for ${burnt.tenant} (${i.service ?? 'all services'}) by SLO burn at ${i.started_at} (trigger ${i.trigger}, by ${i.started_by}, until ${i.expires_at})`);
    else out.push(`  incident mode NOT switched on by the SLO burn${burnt.problem ? `: ${burnt.problem}` : ''}`);
  }
  if (r.evidence || r.attestations.length || r.custody || r.incident || r.capture) {
    out.push('', 'Evidence');
    for (const x of r.evidence?.snapshots ?? []) {
      out.push(`  ${x.kind.padEnd(12)} ${x.resource} → bundle ${x.bundle_id ?? '(not created)'}: ${x.verify?.exitCode === 0 ? 'verifies offline (stella forensic verify)' : 'does NOT verify'}`);
    }
    for (const a of r.attestations) out.push(`  attestation  ${a.subject} → ${a.id ?? '(none)'}: ${a.show?.exitCode === 0 ? 'verified' : 'NOT verified'}`);
    if (r.custody) {
      const steps = (r.custody.json?.['steps'] as { step: string; verified: boolean }[] | undefined) ?? [];
      out.push(`  custody      sbom/${String(r.custody.json?.['resource_id'] ?? '?')}: ${steps.map((x) => `${x.step}${x.verified ? '' : ' ✘'}`).join(' → ')} — ${r.custody.json?.['verified'] === true ? 'verified' : 'NOT verified'}`);
    }
    if (r.incident) out.push(`  incident     ${r.incident.tenant}: ${r.incident.requests} unsampled requests stored ${r.incident.storedBefore} traces before, ${r.incident.storedDuring} with incident mode on (switched by an operator)`);
    if (r.capture) out.push(`  capture      ${shown(r.capture.json?.['bundle'])}: ${r.capture.json?.['verified'] === true ? `signed, verified (manifest sha256 ${String(r.capture.json?.['manifest_sha256']).slice(0, 16)}…)` : 'NOT verified'}`);
  }
  if (r.dora) {
    out.push('', 'Delivery (DORA)');
    out.push(`  ${doraLine(r.dora)}`);
    out.push(`  report: npx stella dora report --tenant ${r.dora.tenant} --env ${r.dora.environment} --from <time> --to <time>`);
  }
  out.push('', 'Verifications');
  for (const s of r.steps) out.push(`  ${s.ok ? '✔' : '✘'} ${s.name}`);
  if (r.notAvailable.length > 0) {
    out.push('', 'Not in this build of the service yet (not run):');
    for (const n of r.notAvailable) out.push(`  - ${n}`);
  }
  const timelineCount = Object.values(r.timeline).reduce((n, evs) => n + evs.length, 0);
  out.push('', 'Counts');
  out.push(`  jobs ${r.runs.reduce((n, x) => n + 2 + (x.failure ? 1 : 0), 0) + (burnt?.failures.length ?? 0)}, timeline events in the evaluation chains ${timelineCount}, spans read back ${r.spans.length}, log lines ${r.logs?.lines ?? 0}`);
  if (r.coverage) out.push(`  routes and job paths traced with exemplars: ${r.coverage.covered}/${r.coverage.total}`);
  if (r.stack) {
    out.push('', 'URLs');
    out.push(`  service   ${r.stack.stellaUrl}  (OpenAPI: ${r.stack.stellaUrl}/openapi.json)`);
    out.push(...consoleLines(r.stack.stellaUrl, join(r.stack.dataDir, 'service'), r.runs.map((x) => x.plan.tenant)));
    for (const [name, url] of Object.entries(r.stack.peers)) out.push(`  ${name.padEnd(13)} ${url}  (metrics: ${url}/metrics)`);
    out.push(`  data dir  ${shown(r.dataDir)}`);
  }
  if (!r.stack) out.push('', r.dataDirKept ? `Data dir kept: ${shown(r.dataDir)}. Run with --keep-running to explore the APIs afterwards.` : 'Run with --keep-running to explore the APIs afterwards, and --data-dir <dir> to keep the bundles.');
  out.push('', `Took ${(r.durationMs / 1000).toFixed(1)} s.`);
  return out.join('\n');
}
