/**
 * The shipped dashboards: committed JSON is what the generator writes, byte for byte; each
 * imports offline (schemaVersion ≥ 39, the Prometheus data source as the `datasource` variable
 * on every panel and query, core panels only, no links out of Grafana); histogram queries ask for
 * exemplars and link their trace; every metric is in the catalogue of docs/metrics-and-slos.md
 * under the emitter the panel claims; every query parses in Prometheus; the docs' import
 * command copies the files as written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '@stellaops/server';
import { DASHBOARDS, dashboardFiles, DENIAL_SCOPES, PRIVILEGED_ROUTES, SCHEMA_VERSION, SERVICE_JOB, type MetricSource, type PanelSpec } from '../src/index.ts';
import { REPO_ROOT } from './helpers/repo.ts';
import { requirePrometheus, startPrometheus, substituteGrafanaVariables, type RunningPrometheus } from './dashboards-prometheus.ts';

const DIR = join(REPO_ROOT, 'deploy/dashboards');
const DOCS = readFileSync(join(REPO_ROOT, 'docs/metrics-and-slos.md'), 'utf8');

interface GrafanaTarget {
  datasource: { type: string; uid: string };
  expr: string;
  exemplar: boolean;
  refId: string;
}
interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: GrafanaTarget[];
  fieldConfig?: { overrides: { matcher: { id: string; options: string }; properties: { id: string; value: { url: string }[] }[] }[] };
  gridPos: { h: number; w: number; x: number; y: number };
}
interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  links: { type: string; url?: string }[];
  templating: { list: { name: string; type: string; query: string }[] };
}

const committed = (file: string): GrafanaDashboard => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as GrafanaDashboard;
const specPanels = (uid: string): PanelSpec[] => DASHBOARDS.find((d) => d.uid === uid)!.rows.flatMap((r) => r.panels);

/** Metric names a query selects (an identifier followed by `{` or `[`, or a bare `up`). */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)) names.add(m[1]!);
  for (const m of expr.matchAll(/\(\s*(up)\s*(?:==|\))/g)) names.add(m[1]!);
  return [...names];
}

/** The catalogue table of the docs page: metric name → emitters (core, service, Collector, Prometheus). */
function catalogue(): Map<string, Set<string>> {
  const start = DOCS.indexOf('## Catalog');
  const table = DOCS.slice(start, DOCS.indexOf('\n## ', start + 1));
  const out = new Map<string, Set<string>>();
  for (const line of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const cells = line.split('|').map((c) => c.trim());
    const names = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const emitter = cells[5]!;
    const first = names[0]!;
    for (const n of names) {
      // `_p99_seconds` after `nodejs_eventloop_delay_p50_seconds`: same stem, other suffix.
      const full = n.startsWith('_') ? first.split('_').slice(0, -(n.split('_').length - 1)).join('_') + n : n;
      const type = cells[2]!;
      const forms = type === 'histogram' ? [`${full}_bucket`, `${full}_count`, `${full}_sum`] : [full];
      for (const f of forms) out.set(f, new Set([...(out.get(f) ?? []), emitter]));
    }
  }
  return out;
}

describe('shipped dashboards', () => {
  it('are what the generator writes, byte for byte, and nothing else is in deploy/dashboards', () => {
    const files = dashboardFiles();
    expect(readdirSync(DIR).sort()).toEqual([...files.keys()].sort());
    for (const [name, text] of files) expect(readFileSync(join(DIR, name), 'utf8'), `${name}: run npm run generate:dashboards -w @stellaops/collector-config`).toBe(text);
    // Deterministic: rendering twice gives the same bytes.
    expect([...dashboardFiles().values()]).toEqual([...files.values()]);
  });

  it('cover ingestion, policy, export, attestation, telemetry stack health and console security', () => {
    expect(DASHBOARDS.map((d) => d.uid)).toEqual(['stella-ingestion', 'stella-policy', 'stella-export', 'stella-attestation', 'stella-telemetry', 'stella-console-security']);
  });

  describe.each(DASHBOARDS.map((d) => `${d.uid}.json`))('%s', (file) => {
    const d = committed(file);
    const panels = d.panels.filter((p) => p.type !== 'row');

    it('imports offline: schemaVersion ≥ 39, a datasource variable, core panels, no links out of Grafana', () => {
      expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(39);
      const ds = d.templating.list.find((v) => v.name === 'datasource');
      expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(Object.keys(d)).not.toContain('__requires');
      expect(Object.keys(d)).not.toContain('__inputs');
      for (const p of d.panels) expect(['row', 'timeseries', 'stat'], p.title).toContain(p.type);
      for (const l of d.links) expect(l.type, 'dashboard links only list other dashboards by tag').toBe('dashboards');
      const text = readFileSync(join(DIR, file), 'utf8');
      expect(text, 'no absolute URL other than the stella_url default').not.toMatch(/https?:\/\/(?!localhost:8080")/);
    });

    it('names ${datasource} on every panel and every query', () => {
      expect(panels.length).toBeGreaterThan(0);
      for (const p of panels) {
        expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets!) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    });

    it('lays panels out on the 24-column grid without overlaps', () => {
      const cells = new Set<string>();
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
            cells.add(`${x},${y}`);
          }
      }
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    });

    it('asks for exemplars on histogram queries and links their trace id to the trace view', () => {
      for (const p of panels) {
        const histogram = p.targets!.filter((t) => t.expr.includes('_bucket'));
        for (const t of p.targets!) expect(t.exemplar, `${p.title} ${t.refId}`).toBe(t.expr.includes('_bucket') && t.expr.includes('histogram_quantile'));
        const link = p.fieldConfig?.overrides.find((o) => o.matcher.id === 'byName' && o.matcher.options === 'trace_id');
        if (histogram.some((t) => t.exemplar)) {
          expect(link?.properties[0]?.value[0]?.url, p.title).toBe('${stella_url}/obs/trace/${__value.raw}');
        } else expect(link, p.title).toBeUndefined();
      }
      expect(d.templating.list.find((v) => v.name === 'stella_url')).toBeDefined();
    });

    it('reads only catalogued metrics, from the emitter each panel names', () => {
      const known = catalogue();
      const allowed: Record<MetricSource, string[]> = { workload: ['core'], service: ['service', 'core'], prometheus: ['Prometheus'] };
      const specs = specPanels(d.uid);
      for (const p of panels) {
        const spec = specs.find((s) => s.title === p.title)!;
        expect(spec, p.title).toBeDefined();
        const readsService = p.targets!.some((t) => t.expr.includes(`job="${SERVICE_JOB}"`));
        for (const t of p.targets!) {
          for (const name of metricNames(t.expr)) {
            const emitters = known.get(name);
            expect(emitters, `${p.title}: ${name} is not in the catalogue of docs/metrics-and-slos.md`).toBeDefined();
            expect([...emitters!].some((e) => allowed[spec.source].includes(e)), `${p.title}: ${name} is emitted by ${[...emitters!].join(', ')}, the panel says ${spec.source}`).toBe(true);
            // A core metric on a service panel must be the service's own series.
            if (spec.source === 'service' && !emitters!.has('service')) expect(readsService, `${p.title}: ${name} without job="${SERVICE_JOB}"`).toBe(true);
          }
          if (spec.source === 'workload') expect(t.expr, p.title).not.toContain(`job="${SERVICE_JOB}"`);
        }
      }
    });
  });

  it("labels denials with the scope the service's access catalogue names for each route", () => {
    // Strict where a label would be wrong; a route the table lacks only warns, since its 403s
    // still show (scope "unlisted route") and the catalogue changes with the service.
    const fix = 'update packages/collector-config/src/dashboards/route-scopes.ts from ROUTE_ACCESS and run npm run generate:dashboards -w @stellaops/collector-config';
    const listed = new Map(Object.entries(DENIAL_SCOPES).flatMap(([scope, routes]) => routes.map((r) => [r, scope] as const)));
    const unlisted: string[] = [];
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      // Tenant routes and operators' routes over every tenant answer 403s naming a scope.
      if (access.kind !== 'tenant' && access.kind !== 'platform') {
        expect(listed.has(route), `${route} is open to every token or public: ${fix}`).toBe(false);
        continue;
      }
      if (!listed.has(route)) unlisted.push(route);
      else expect(listed.get(route), `${route}: ${fix}`).toBe(access.anyOf[0]);
      const privileged = access.kind === 'tenant' && access.privileged === true;
      if (PRIVILEGED_ROUTES.includes(route)) expect(privileged, `${route} is not privileged: ${fix}`).toBe(true);
      else if (privileged && listed.has(route)) expect.fail(`${route} is privileged: ${fix}`);
    }
    const gone = [...listed.keys(), ...PRIVILEGED_ROUTES].filter((r) => !ROUTE_ACCESS[r]);
    if (unlisted.length || gone.length) console.warn(`dashboards: routes not in the scope table: ${unlisted.join(', ') || 'none'}; listed but not in the catalogue: ${[...new Set(gone)].join(', ') || 'none'} — ${fix}`);
  });

  it('are listed in the Dashboards section of docs/metrics-and-slos.md, and its import command copies them as written', () => {
    const section = DOCS.slice(DOCS.indexOf('## Dashboards'), DOCS.indexOf('\n## ', DOCS.indexOf('## Dashboards') + 1));
    for (const d of DASHBOARDS) {
      expect(section).toContain(`\`${d.uid}.json\``);
      expect(section).toContain(d.title);
    }
    const copy = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).find((c) => c.includes('file://'));
    expect(copy).toBeDefined();
    const dest = mkdtempSync(join(tmpdir(), 'stella-grafana-'));
    try {
      const r = spawnSync('sh', ['-c', copy!], { cwd: REPO_ROOT, env: { ...process.env, GRAFANA_DASHBOARDS: join(dest, 'stellaops') }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const files = dashboardFiles();
      expect(readdirSync(join(dest, 'stellaops')).sort()).toEqual([...files.keys()].sort());
      for (const [name, text] of files) expect(readFileSync(join(dest, 'stellaops', name), 'utf8')).toBe(text);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!requirePrometheus())('dashboard queries in Prometheus', () => {
  let prom: RunningPrometheus;
  beforeAll(async () => {
    prom = await startPrometheus([]);
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('parse, with the Grafana variables substituted', async () => {
    const errors: string[] = [];
    for (const file of DASHBOARDS.map((d) => `${d.uid}.json`)) {
      for (const p of committed(file).panels) {
        for (const t of p.targets ?? []) {
          const expr = substituteGrafanaVariables(t.expr, { rateInterval: '1m', interval: '15s', range: '1h' });
          const error = await prom.parseError(expr);
          if (error) errors.push(`${file} "${p.title}" ${t.refId}: ${error}`);
          // And evaluates (no data needed): catches type errors the parser lets through.
          else await prom.query(expr).catch((e: Error) => errors.push(`${file} "${p.title}" ${t.refId}: ${e.message}`));
        }
      }
    }
    expect(errors).toEqual([]);
  });

  it('rejects a broken query (the check is real)', async () => {
    expect(await prom.parseError('sum(rate(up[1m])')).toBeDefined();
  });
});
