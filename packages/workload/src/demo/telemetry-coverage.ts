/**
 * "≥ 90% of routes and job paths are traced, with exemplars" (SPEC §18), measured from the
 * outside: each workload service's `/metrics` (OpenMetrics, which carries exemplars) says
 * which routes and journeys ran; the exported spans say which of them were traced.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeSpanName } from '@stellaops/telemetry-core';
import type { WorkloadServiceName } from '../services/workload-config.js';

export interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  tenant: string | undefined;
}

interface OtlpAttr {
  key: string;
  value: { stringValue?: string };
}

/** Spans from OTLP/JSON line files (`<service>.traces.jsonl`, the file exporter's format). */
export function spansFromFiles(dir: string): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.traces.jsonl'));
  } catch {
    return out;
  }
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const req = JSON.parse(line) as { resourceSpans?: { resource?: { attributes?: OtlpAttr[] }; scopeSpans?: { spans?: { name: string; traceId: string; attributes?: OtlpAttr[] }[] }[] }[] };
      for (const rs of req.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? 'unknown';
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({ service, name: s.name, traceId: s.traceId, tenant: s.attributes?.find((a) => a.key === 'stella.tenant_id')?.value.stringValue });
          }
        }
      }
    }
  }
  return out;
}

export interface CoverageItem {
  service: string;
  /** `route POST /sboms` or `journey sbom_ingest`. */
  path: string;
  span: string;
  traced: boolean;
  exemplar: boolean;
}

export interface Coverage {
  items: CoverageItem[];
  covered: number;
  total: number;
  ratio: number;
}

/** Work span each journey opens (the exemplar of the journey histogram points into it). */
const JOURNEY_SPANS: Record<string, string> = {
  sbom_ingest: 'sbom.ingest',
  advisory_link: 'conseiller.link',
  vex_reconcile: 'excitator.reconcile',
  policy_evaluate: 'policy.evaluate',
  export_bundle: 'export.bundle',
};

const SERIES = /^(\w+)_bucket\{([^}]*)\}\s+\S+(\s+#\s+\{[^}]*trace_id="([0-9a-f]{32})"[^}]*\})?/;

function label(labels: string, name: string): string | undefined {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1];
}

/** Scrapes every service's `/metrics` and matches what ran against the spans exported. */
export async function telemetryCoverage(peers: Record<WorkloadServiceName, string>, spans: readonly ExportedSpan[]): Promise<Coverage> {
  const spanKeys = new Set(spans.map((s) => `${s.service}|${s.name}`));
  const items: CoverageItem[] = [];
  for (const [service, url] of Object.entries(peers)) {
    const text = await (await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    const seen = new Map<string, CoverageItem>();
    for (const line of text.split('\n')) {
      const m = SERIES.exec(line);
      if (!m) continue;
      const [, metric, labels, exemplar] = m;
      let path: string | undefined;
      let span: string | undefined;
      if (metric === 'http_server_request_duration_seconds') {
        const route = label(labels!, 'http_route');
        if (!route) continue;
        path = `route ${label(labels!, 'http_request_method') ?? ''} ${route}`;
        span = routeSpanName(route);
      } else if (metric === 'stella_journey_duration_seconds') {
        const journey = label(labels!, 'stella_journey');
        if (!journey || !JOURNEY_SPANS[journey]) continue;
        path = `journey ${journey}`;
        span = JOURNEY_SPANS[journey];
      } else continue;
      const item = seen.get(path) ?? { service, path, span: span!, traced: spanKeys.has(`${service}|${span}`), exemplar: false };
      if (exemplar) item.exemplar = true;
      seen.set(path, item);
    }
    items.push(...seen.values());
  }
  // Job paths: the scheduling and the execution of a job are spans of their own.
  for (const [service, span] of [['orchestrator', 'orchestrator.schedule'], ['task-runner', 'runner.execute']] as const) {
    const exemplar = items.some((i) => i.service === service && i.exemplar);
    items.push({ service, path: `job ${span}`, span, traced: spanKeys.has(`${service}|${span}`), exemplar });
  }
  const covered = items.filter((i) => i.traced && i.exemplar).length;
  return { items, covered, total: items.length, ratio: items.length ? covered / items.length : 0 };
}

/** Spans of the given traces as the service stored them (`GET /obs/trace/:id`, per tenant). */
export async function spansFromObs(stellaUrl: string, traces: readonly { tenant: string; token: string; traceId: string }[]): Promise<ExportedSpan[]> {
  const out: ExportedSpan[] = [];
  for (const t of traces) {
    const res = await fetch(`${stellaUrl}/obs/trace/${t.traceId}`, { headers: { authorization: `Bearer ${t.token}`, 'x-stella-tenant': t.tenant } });
    if (res.status === 404) continue;
    if (!res.ok) throw new Error(`GET /obs/trace/${t.traceId} answered ${res.status}`);
    const body = (await res.json()) as { spans: { name: string; service: string; attributes: Record<string, unknown> }[] };
    for (const s of body.spans) {
      const tenant = s.attributes['stella.tenant_id'];
      out.push({ service: s.service, name: s.name, traceId: t.traceId, tenant: typeof tenant === 'string' ? tenant : undefined });
    }
  }
  return out;
}
