/** The short human summary printed at the end of the demo. */
import { isAbsolute, relative } from 'node:path';
import type { DemoResult } from './run-demo.js';

/** Paths under the working directory are shown relative to it, so the summary reads the same on every machine. */
function shown(path: unknown): string {
  const p = String(path ?? '?');
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : `./${rel}`;
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
  if (failure) {
    out.push('', 'Something red to explain');
    out.push(`  job ${failure.job.job_id} (${failure.record.type}) ${failure.record.state}: ${failure.record.error?.code ?? ''}`);
    out.push(`  ${failure.record.error?.message ?? ''}`);
    out.push(`  trace id ${failure.job.trace_id}`);
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
    if (r.incident) out.push(`  incident     ${r.incident.tenant}: ${r.incident.requests} unsampled requests stored ${r.incident.storedBefore} traces before, ${r.incident.storedDuring} with incident mode on`);
    if (r.capture) out.push(`  capture      ${shown(r.capture.json?.['bundle'])}: ${r.capture.json?.['verified'] === true ? `signed, verified (manifest sha256 ${String(r.capture.json?.['manifest_sha256']).slice(0, 16)}…)` : 'NOT verified'}`);
  }
  out.push('', 'Verifications');
  for (const s of r.steps) out.push(`  ${s.ok ? '✔' : '✘'} ${s.name}`);
  if (r.notAvailable.length > 0) {
    out.push('', 'Not in this build of the service yet (not run):');
    for (const n of r.notAvailable) out.push(`  - ${n}`);
  }
  const timelineCount = Object.values(r.timeline).reduce((n, evs) => n + evs.length, 0);
  out.push('', 'Counts');
  out.push(`  jobs ${r.runs.reduce((n, x) => n + 2 + (x.failure ? 1 : 0), 0)}, timeline events in the evaluation chains ${timelineCount}, spans read back ${r.spans.length}, log lines ${r.logs?.lines ?? 0}`);
  if (r.coverage) out.push(`  routes and job paths traced with exemplars: ${r.coverage.covered}/${r.coverage.total}`);
  if (r.stack) {
    out.push('', 'URLs');
    out.push(`  service   ${r.stack.stellaUrl}  (OpenAPI: ${r.stack.stellaUrl}/openapi.json)`);
    for (const [name, url] of Object.entries(r.stack.peers)) out.push(`  ${name.padEnd(13)} ${url}  (metrics: ${url}/metrics)`);
    out.push(`  data dir  ${shown(r.dataDir)}`);
  }
  if (!r.stack) out.push('', r.dataDirKept ? `Data dir kept: ${shown(r.dataDir)}. Run with --keep-running to explore the APIs afterwards.` : 'Run with --keep-running to explore the APIs afterwards, and --data-dir <dir> to keep the bundles.');
  out.push('', `Took ${(r.durationMs / 1000).toFixed(1)} s.`);
  return out.join('\n');
}
