/** Verifications the demo (and the e2e tests) run against the public faces of the system. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimelineEvent } from '@stellaops/telemetry-core';
import { eventually } from './processes.js';
import type { Stack } from './stack.js';

/** The kinds one evaluation leaves in its tenant's timeline, in causal order (TL-5's chain plus the job's own). */
export const EVALUATION_CHAIN = ['job.scheduled', 'job.started', 'source.fetched', 'sbom.ingested', 'advisory.matched', 'vex.reconciled', 'policy.evaluated', 'advisory.linked', 'export.completed', 'job.finished'] as const;

export async function getJson<T>(stack: Stack, path: string, token: string, tenant?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.stellaUrl}${path}`, { headers: { authorization: `Bearer ${token}`, ...(tenant ? { 'x-stella-tenant': tenant } : {}) } });
  return { status: res.status, body: (await res.json()) as T };
}

/** Waits until the tenant's timeline holds the whole chain for the trace; returns the events oldest first. */
export async function timelineChain(stack: Stack, token: string, traceId: string, kinds: readonly string[] = EVALUATION_CHAIN, timeoutMs = 20_000): Promise<TimelineEvent[]> {
  return eventually(
    `the timeline to show ${kinds.join(' → ')} for trace ${traceId}`,
    async () => {
      const { status, body } = await getJson<{ events: TimelineEvent[] }>(stack, `/timeline?trace_id=${traceId}&limit=200`, token);
      if (status !== 200) throw new Error(`GET /timeline answered ${status}`);
      const have = new Set(body.events.map((e) => e.kind));
      return kinds.every((k) => have.has(k)) ? [...body.events].reverse() : undefined;
    },
    timeoutMs,
    200,
  );
}

export interface LogCheck {
  files: number;
  lines: number;
  violations: string[];
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

/**
 * CORE-1 on every line the run wrote: identity fields always; inside a request, its route,
 * method, request and trace ids and tenant; inside a job, its trace and tenant; errors with a
 * code and a message; and never a bearer token.
 */
export function checkLogs(logDir: string, workloadServices: readonly string[]): LogCheck {
  const violations: string[] = [];
  let lines = 0;
  const files = readdirSync(logDir).filter((f) => f.endsWith('.ndjson'));
  for (const file of files) {
    const service = file.replace(/\.ndjson$/, '');
    const workload = workloadServices.includes(service);
    readFileSync(join(logDir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .forEach((raw, i) => {
        lines++;
        const where = `${file}:${i + 1}`;
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          violations.push(`${where}: not JSON`);
          return;
        }
        const need = (field: string, why: string): void => {
          if (line[field] === undefined || line[field] === '') violations.push(`${where}: ${why} but has no ${field} (msg "${String(line['msg'])}")`);
        };
        for (const f of ['ts', 'level', 'service', 'instance_id']) need(f, 'every line needs identity fields');
        if (workload) for (const f of ['version', 'env']) need(f, 'workload lines carry their release');
        if (line['request_id'] !== undefined) for (const f of ['route', 'method', 'trace_id', 'span_id']) need(f, 'the line was written inside a request');
        if (workload && line['request_id'] !== undefined) need('tenant_id', 'the request was for a tenant');
        if (line['job_id'] !== undefined) for (const f of ['trace_id', 'tenant_id']) need(f, 'the line was written inside a job');
        if (line['span_id'] !== undefined) need('trace_id', 'the line has a span');
        if (line['level'] === 'error' || line['level'] === 'fatal') for (const f of ['error_code', 'error_message']) need(f, 'error lines explain themselves');
        if (JWT.test(raw)) violations.push(`${where}: contains a bearer token`);
      });
  }
  return { files: files.length, lines, violations };
}

/** A 403 for a tenant the token does not cover: explains the scope, says nothing about anyone. */
export async function wrongTenantDenial(stack: Stack, tokenOfOther: string, tenant: string, otherSubject: string): Promise<{ status: number; body: Record<string, unknown>; ok: boolean; problems: string[] }> {
  const { status, body } = await getJson<Record<string, unknown>>(stack, '/timeline?limit=1', tokenOfOther, tenant);
  const text = JSON.stringify(body);
  const problems: string[] = [];
  if (status !== 403) problems.push(`expected 403, got ${status}`);
  if (body['error_code'] !== 'auth.tenant_denied') problems.push(`expected error_code auth.tenant_denied, got ${String(body['error_code'])}`);
  if (!String(body['message'] ?? '').includes(`#tenant/${tenant}`)) problems.push('the message does not name the scope that would allow the request');
  if (text.includes(otherSubject)) problems.push('the body names the caller');
  if (/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/.test(text)) problems.push('the body contains an e-mail address');
  if (JWT.test(text)) problems.push('the body contains a token');
  return { status, body, ok: problems.length === 0, problems };
}
