/**
 * The SLOs shipped in deploy/slo: they load, the committed rules and tests are what the
 * generator writes today, promtool accepts both, and every query reads a metric and a bucket
 * bound the instrumentation really has.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSlos, type SeriesSelector } from '../../src/index.ts';
import { RULES_FILE, shippedSloRuleFiles, TESTS_FILE } from '../../scripts/generate-slo-rules.ts';
import { promtool, requirePromtool } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';

const SLO_DIR = join(REPO_ROOT, 'deploy/slo');
const RULES_DIR = join(REPO_ROOT, 'deploy/rules');

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

/** Numbers of `const NAME … = Object.freeze([ … ])` in a source file. */
function numberArray(source: string, name: string): number[] {
  const m = new RegExp(`${name}[^=]*=\\s*Object\\.freeze\\(\\[([^\\]]*)\\]`).exec(source);
  if (!m) throw new Error(`${name} not found`);
  return m[1]!.split(',').map((s) => Number(s.trim())).filter((n) => !Number.isNaN(n));
}

function le(selector: SeriesSelector): string | undefined {
  const m = selector.matchers.find((x) => x.name === 'le');
  return m?.value.split('|')[0];
}

describe('shipped SLOs', async () => {
  const slos = await loadSlos(SLO_DIR);

  it('are the four journeys and availability and latency for every service', () => {
    const services = ['conseiller', 'excitator', 'export-center', 'orchestrator', 'policy-engine', 'sbom-service', 'stella-observability', 'task-runner'];
    expect(slos.map((s) => s.name).sort()).toEqual(
      [
        'advisory-link-latency',
        'export-bundle-latency',
        'policy-evaluate-latency',
        'sbom-ingest-latency',
        ...services.flatMap((s) => [`${s}-availability`, `${s}-latency`]),
      ].sort(),
    );
  });

  it('state the SLO-1 journeys: 95% within 5 s, 2 s, 30 s and 90 s over 30 days', () => {
    const journeys = Object.fromEntries(slos.filter((s) => s.indicator.good?.metricName === 'stella_journey_duration_seconds_bucket').map((s) => [s.name, [s.target, s.period, le(s.indicator.good!)]]));
    expect(journeys).toEqual({
      'sbom-ingest-latency': [0.95, '30d', '5'],
      'policy-evaluate-latency': [0.95, '30d', '2'],
      'advisory-link-latency': [0.95, '30d', '30'],
      'export-bundle-latency': [0.95, '30d', '90'],
    });
  });

  it('read metrics telemetry-core records, at bucket bounds its histograms have, for services the workload and the service run', () => {
    const instruments = read('packages/telemetry-core/src/metrics/instruments.ts');
    const buckets = numberArray(instruments, 'DURATION_BUCKETS_SECONDS');
    // Prometheus names of the OpenTelemetry instruments (dots to underscores, seconds unit, _total on counters).
    expect(instruments).toContain("requestDuration: 'http.server.request.duration'");
    expect(instruments).toContain("requestErrors: 'http.server.request.errors'");
    expect(instruments).toContain("journeyDuration: 'stella.journey.duration'");
    const known = new Set(['http_server_request_duration_seconds_bucket', 'http_server_request_duration_seconds_count', 'http_server_request_errors_total', 'stella_journey_duration_seconds_bucket', 'stella_journey_duration_seconds_count']);
    const journeys = instruments.slice(instruments.indexOf('JOURNEYS'), instruments.indexOf('] as const'));
    const workloadServices = read('packages/workload/src/services/workload-config.ts');
    const serverName = /SERVICE_NAME = '([^']+)'/.exec(read('packages/server/src/app.ts'))?.[1];
    for (const slo of slos) {
      for (const sel of [slo.indicator.good ?? slo.indicator.bad, slo.indicator.total]) {
        expect(known.has(sel.metricName!), `${slo.name}: ${sel.text}`).toBe(true);
        const journey = sel.matchers.find((m) => m.name === 'stella_journey')?.value;
        if (journey) expect(journeys).toContain(`'${journey}'`);
        const bound = le(sel);
        if (bound !== undefined) expect(buckets, `${slo.name}: le ${bound}`).toContain(Number(bound));
        const job = sel.matchers.find((m) => m.name === 'job')?.value;
        if (job) expect(job === serverName || workloadServices.includes(`'${job}'`), `${slo.name}: job ${job}`).toBe(true);
      }
    }
    expect(buckets).toEqual(expect.arrayContaining([2, 5, 30, 90]));
  });

  it('match the committed rules and tests byte for byte (regenerate: npm run generate:slo-rules -w @stellaops/collector-config)', async () => {
    const { rules, tests } = await shippedSloRuleFiles(SLO_DIR);
    expect(readFileSync(join(RULES_DIR, RULES_FILE), 'utf8')).toBe(rules);
    expect(readFileSync(join(RULES_DIR, TESTS_FILE), 'utf8')).toBe(tests);
  });

  it('link runbooks that exist', () => {
    const file = parse(read('deploy/rules/slo-rules.yaml')) as { groups: { rules: { annotations?: { runbook_url?: string } }[] }[] };
    const urls = new Set(file.groups.flatMap((g) => g.rules.map((r) => r.annotations?.runbook_url).filter((u): u is string => u !== undefined)));
    expect([...urls].sort()).toEqual(['docs/runbooks/slo-error-budget-burn.md', 'docs/runbooks/slo-no-data.md']);
    for (const url of urls) expect(existsSync(join(REPO_ROOT, url)), url).toBe(true);
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it('lint clean: 13 rules per SLO', () => {
      const r = promtool(['check', 'rules', '--lint=all', RULES_FILE], RULES_DIR);
      expect(r.output).toBe(`Checking ${RULES_FILE}\n  SUCCESS: ${13 * slos.length} rules found\n\n`);
      expect(r.status).toBe(0);
    });

    it('pass their generated unit tests', () => {
      const r = promtool(['test', 'rules', TESTS_FILE], RULES_DIR);
      expect(r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
    });
  });
});
