/** The short human summary printed at the end of the demo. */
import type { DemoResult } from './run-demo.js';

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
  out.push('', 'Verifications');
  for (const s of r.steps) out.push(`  ${s.ok ? '✔' : '✘'} ${s.name}`);
  if (r.notAvailable.length > 0) {
    out.push('', 'Not in this build of the service yet (not run):');
    for (const n of r.notAvailable) out.push(`  - ${n}`);
  }
  const timelineCount = Object.values(r.timeline).reduce((n, evs) => n + evs.length, 0);
  out.push('', 'Counts');
  out.push(`  jobs ${r.runs.reduce((n, x) => n + 2 + (x.failure ? 1 : 0), 0)}, timeline events in the evaluation chains ${timelineCount}, log lines ${r.logs?.lines ?? 0}`);
  if (r.stack) {
    out.push('', 'URLs');
    out.push(`  service   ${r.stack.stellaUrl}  (OpenAPI: ${r.stack.stellaUrl}/openapi.json)`);
    for (const [name, url] of Object.entries(r.stack.peers)) out.push(`  ${name.padEnd(13)} ${url}  (metrics: ${url}/metrics)`);
    out.push(`  data dir  ${r.dataDir}`);
  }
  out.push('', `Took ${(r.durationMs / 1000).toFixed(1)} s.`);
  return out.join('\n');
}
