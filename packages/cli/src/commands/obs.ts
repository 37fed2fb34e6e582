/**
 * `stella obs …` (CLI-1, CLI-4): what is happening now, and what happened in one trace.
 *
 * - top: a live view, redrawn every --interval seconds until Ctrl-C, of request rate, error
 *   ratio and p95 per service and route (`GET /obs/routes`), each service's health
 *   (`GET /obs/health`) and the tenant's jobs — running, queued, failed — from their `job.*`
 *   timeline events (`GET /timeline`; the service has no job API of its own). `--once` prints
 *   one frame; with `--json`, one document.
 * - trace: one trace as an indented span tree (`GET /obs/trace/:id`) with the trace's log
 *   records (`GET /obs/logs?trace_id=`), timeline events (`GET /timeline?trace_id=`) and
 *   decisions (authz and policy decision logs, and the decision attributes of its spans).
 *
 * Each refresh (and `trace`) sends its own W3C `traceparent` and prints its trace id on stderr,
 * so what the screen showed can be found in the service's traces and logs. What a token may not
 * read (the timeline without stella:timeline:read) is left out and said so; every other error
 * answer ends the command with exit 2, as everywhere.
 */
import type { Command } from 'commander';
import { withServerOptions, type CommandContext, type ServerOptions } from '../context.js';
import { CliError, EXIT, type CliIO, type CommandResult } from '../output.js';
import { connect, requestJson, type Connection } from '../service-client.js';

/** `30s`, `5m`, `2h`, `1d`: what the service's `since` takes too. */
const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Pages of job events one frame reads at most (1000 events each). */
const MAX_JOB_PAGES = 5;
/** Redraw from the top-left corner and clear the screen below. */
const HOME_AND_CLEAR = '\u001b[H\u001b[J';

function durationMs(flag: string, value: string): number {
  const m = DURATION.exec(value.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : 0;
  if (ms <= 0) throw new CliError('usage', `${flag} must be a duration such as 30s, 5m, 2h or 1d, not "${value}"`);
  return ms;
}

function positiveNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new CliError('usage', `${flag} must be a number from ${min} to ${max}, not "${value}"`);
  return n;
}

/** The scope a 403 named, when the token lacks it (the CLI says what is missing instead of failing). */
function deniedScope(error: unknown): string | undefined {
  if (!(error instanceof CliError) || (error.code !== 'auth.scope_denied' && error.code !== 'auth.tenant_denied')) return undefined;
  return /stella:[a-z]+:[a-z]+(#tenant\/[^\s,;)]+)?/.exec(error.message)?.[0] ?? 'the scope';
}

const hhmmss = (iso: string): string => iso.slice(11, 19);
const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padStart = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const ms = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ms`);
const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

/** A text table: columns as wide as their widest cell, numbers right-aligned. */
function table(header: string[], rows: string[][], numeric: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (numeric.has(i) ? padStart(c, widths[i]!) : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

// ---- stella obs top -------------------------------------------------------------------------

interface RouteSeries {
  service: string;
  route: string;
  requests: number;
  request_rate_per_s: number;
  errors: number;
  error_ratio: number;
  p95_ms: number;
}

interface ServiceHealth {
  service: string;
  status: 'up' | 'degraded' | 'down';
  last_seen: string;
  requests: number;
  error_ratio: number;
  p95_ms: number;
}

interface TimelineEvent {
  event_id: string;
  ts: string;
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown>;
}

interface TimelinePage {
  events: TimelineEvent[];
  next_cursor: string | null;
}

interface JobState {
  job_id: string;
  type: string | null;
  state: 'queued' | 'running' | 'finished' | 'failed';
  /** When it entered that state. */
  at: string;
  error_code: string | null;
  trace_id: string | null;
}

type JobsView =
  | { available: true; window: { from: string; to: string }; running: JobState[]; queued: JobState[]; failed: JobState[]; finished: number; events_read: number; complete: boolean }
  | { available: false; reason: string };

interface TopFrame {
  at: string;
  tenant: string | null;
  window: { from: string; to: string };
  routes: RouteSeries[];
  routes_total: number;
  services: ServiceHealth[];
  jobs: JobsView;
  trace_id: string;
}

interface TopOptions {
  windowMs: number;
  jobsWindowMs: number;
  service: string | undefined;
  limit: number;
}

/** The jobs seen in the window, each in its latest state (events arrive newest first). */
async function readJobs(conn: Connection, fromMs: number, nowMs: number): Promise<JobsView> {
  const from = new Date(fromMs).toISOString();
  const to = new Date(nowMs).toISOString();
  const latest = new Map<string, JobState>();
  let cursor: string | null = null;
  let read = 0;
  let pages = 0;
  try {
    do {
      const query = new URLSearchParams({ kind: 'job.*', from, to, limit: '1000', ...(cursor ? { cursor } : {}) });
      const page: TimelinePage = await requestJson<TimelinePage>(conn, 'GET', `/timeline?${query.toString()}`);
      for (const e of page.events) {
        read++;
        const id = e.resource_id;
        if (!id || latest.has(id)) continue;
        const state = e.kind === 'job.started' ? 'running' : e.kind === 'job.scheduled' ? 'queued' : e.kind === 'job.finished' ? 'finished' : e.kind === 'job.failed' ? 'failed' : undefined;
        if (!state) continue;
        const type = typeof e.details['type'] === 'string' ? e.details['type'] : null;
        const code = typeof e.details['error_code'] === 'string' ? e.details['error_code'] : null;
        latest.set(id, { job_id: id, type, state, at: e.ts, error_code: code, trace_id: e.trace_id });
      }
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < MAX_JOB_PAGES);
  } catch (error) {
    const scope = deniedScope(error);
    if (scope) return { available: false, reason: `the token lacks ${scope}: jobs are read from the timeline` };
    throw error;
  }
  const jobs = [...latest.values()];
  const of = (state: JobState['state']): JobState[] => jobs.filter((j) => j.state === state);
  return { available: true, window: { from, to }, running: of('running'), queued: of('queued'), failed: of('failed'), finished: of('finished').length, events_read: read, complete: cursor === null };
}

async function topFrame(opts: ServerOptions, io: CliIO, top: TopOptions, signal?: AbortSignal): Promise<TopFrame> {
  // An interrupted view abandons the refresh in flight: its requests are aborted, not waited for.
  const conn: Connection = { ...connect(opts, io), ...(signal ? { signal } : {}) };
  const since = `${Math.round(top.windowMs / 1000)}s`;
  const query = new URLSearchParams({ since, ...(top.service ? { service: top.service } : {}) }).toString();
  const now = Date.now();
  const [routes, health, jobs] = await Promise.all([
    requestJson<{ window: { from: string; to: string }; series: RouteSeries[] }>(conn, 'GET', `/obs/routes?${query}`),
    requestJson<{ services: ServiceHealth[] }>(conn, 'GET', `/obs/health?${query}`),
    readJobs(conn, now - top.jobsWindowMs, now),
  ]);
  const busiest = [...routes.series].sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service) || a.route.localeCompare(b.route));
  return {
    at: routes.window.to,
    tenant: conn.tenant ?? null,
    window: routes.window,
    routes: busiest.slice(0, top.limit),
    routes_total: routes.series.length,
    services: health.services,
    jobs,
    trace_id: conn.traceId,
  };
}

function renderTop(frame: TopFrame, top: TopOptions, live: { intervalS: number } | undefined): string {
  const lines: string[] = [];
  const scope = frame.tenant ? `tenant ${frame.tenant}` : "the token's tenant";
  lines.push(`stella obs top — ${scope} — last ${Math.round(top.windowMs / 1000)} s to ${frame.at}${live ? ` — every ${live.intervalS} s, Ctrl-C to stop` : ''}`);
  lines.push(`trace_id ${frame.trace_id}`);
  lines.push('');
  if (frame.services.length === 0) lines.push('services: none seen');
  else {
    const state = (s: ServiceHealth): string =>
      s.status === 'down' ? `${s.service} down (last seen ${s.last_seen})` : s.status === 'degraded' ? `${s.service} DEGRADED (errors ${percent(s.error_ratio)}, p95 ${ms(s.p95_ms)})` : `${s.service} up`;
    lines.push(`services: ${frame.services.map(state).join(' · ')}`);
  }
  lines.push('');
  if (frame.routes.length === 0) lines.push('no requests in the window');
  else {
    const rows = frame.routes.map((r) => [r.service, cut(r.route, 48), r.request_rate_per_s.toFixed(2), r.errors > 0 ? percent(r.error_ratio) : '0', ms(r.p95_ms), String(r.requests)]);
    lines.push(...table(['SERVICE', 'ROUTE', 'REQ/S', 'ERRORS', 'P95', 'REQUESTS'], rows, new Set([2, 3, 4, 5])));
    if (frame.routes_total > frame.routes.length) lines.push(`… ${frame.routes_total - frame.routes.length} more route(s) with fewer requests (--limit shows more)`);
  }
  lines.push('');
  const jobs = frame.jobs;
  if (!jobs.available) lines.push(`jobs: not shown — ${jobs.reason}`);
  else {
    const total = jobs.running.length + jobs.queued.length + jobs.failed.length + jobs.finished;
    lines.push(
      `jobs since ${jobs.window.from} (timeline): ${jobs.running.length} running, ${jobs.queued.length} queued, ${jobs.failed.length} failed, ${jobs.finished} finished${jobs.complete ? '' : ` (the newest ${jobs.events_read} events only)`}`,
    );
    if (total > 0) {
      const rows = [...jobs.running, ...jobs.queued, ...jobs.failed.slice(0, 10)].map((j) => [
        j.state.toUpperCase(),
        j.job_id,
        j.type ?? '',
        `${j.state === 'running' ? 'since' : j.state === 'queued' ? 'queued' : 'at'} ${hhmmss(j.at)}`,
        j.error_code ?? '',
        j.trace_id ? `trace ${j.trace_id}` : '',
      ]);
      if (rows.length > 0) lines.push(...table(['STATE', 'JOB', 'TYPE', 'WHEN', 'ERROR', 'TRACE'], rows, new Set()).map((l) => `  ${l}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Ctrl-C for the duration of a live view: the io's signal, or SIGINT of this process while `run` runs. */
async function untilInterrupted<T>(io: CliIO, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (io.interrupt) return run(io.interrupt);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await run(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function frameJson(frame: TopFrame): Record<string, unknown> {
  const { trace_id: traceId, ...rest } = frame;
  return { ok: true, ...rest, trace_id: traceId };
}

// ---- stella obs trace -----------------------------------------------------------------------

interface TraceSpan {
  span_id: string;
  parent_span_id: string | null;
  depth: number;
  name: string;
  kind: string;
  service: string;
  start_time_unix_nano: string;
  duration_ms: number;
  status: { code: string; message: string };
  attributes: Record<string, unknown>;
  events: { name: string; time_unix_nano: string; attributes: Record<string, unknown> }[];
}

interface TraceView {
  trace_id: string;
  span_count: number;
  services: string[];
  start_time: string;
  duration_ms: number;
  truncated: boolean;
  deep_link: string | null;
  spans: TraceSpan[];
}

interface LogRecord {
  time: string;
  severity_number: number;
  severity_text: string | null;
  service: string;
  trace_id: string | null;
  span_id: string | null;
  body: string;
  attributes: Record<string, unknown>;
}

interface Decision {
  source: 'log' | 'span';
  time: string;
  kind: string;
  effect: string;
  reason: string | null;
  scope: string | null;
  policy_version: string | null;
  rule_ids: string[];
  resource: string | null;
  action: string | null;
  service: string;
  span_id: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : typeof v === 'string' && v !== '' ? v.split(',') : []);
const nanosToIso = (nanos: string): string => new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();

/** Decisions of the trace (CORE-9): decision log records, and the decision attributes the helper sets on the active span. */
function decisionsOf(trace: TraceView, logs: LogRecord[]): Decision[] {
  const out: Decision[] = [];
  for (const l of logs) {
    const a = l.attributes;
    const effect = text(a['decision_effect']);
    if (!effect) continue;
    out.push({
      source: 'log',
      time: l.time,
      kind: text(a['decision_kind']) ?? l.body.replace(/^decision\./, ''),
      effect,
      reason: text(a['decision_reason']),
      scope: text(a['scope']),
      policy_version: text(a['policy_version']),
      rule_ids: list(a['rule_ids']),
      resource: text(a['resource']),
      action: text(a['action']),
      service: l.service,
      span_id: l.span_id,
    });
  }
  for (const s of trace.spans) {
    for (const [kind, prefix] of [['authz', 'stella.authz'], ['policy', 'stella.policy']] as const) {
      const effect = text(s.attributes[`${prefix}.effect`]);
      if (!effect) continue;
      // The span repeats what a decision log of the same span says: shown once, from the log.
      if (out.some((d) => d.source === 'log' && d.span_id === s.span_id && d.kind === kind && d.effect === effect)) continue;
      out.push({
        source: 'span',
        time: nanosToIso(s.start_time_unix_nano),
        kind,
        effect,
        reason: text(s.attributes[`${prefix}.reason`]),
        scope: text(s.attributes[`${prefix}.scope`]),
        policy_version: kind === 'policy' ? text(s.attributes['stella.policy.version']) : null,
        rule_ids: kind === 'policy' ? list(s.attributes['stella.policy.rule_ids']) : [],
        resource: null,
        action: null,
        service: s.service,
        span_id: s.span_id,
      });
    }
  }
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

function renderTrace(trace: TraceView, logs: { records: LogRecord[]; truncated: boolean }, timeline: { available: true; events: TimelineEvent[] } | { available: false; reason: string }, decisions: Decision[]): string {
  const lines: string[] = [];
  lines.push(`trace ${trace.trace_id} — ${trace.span_count} span(s), ${trace.services.length} service(s) (${trace.services.join(', ')}), ${ms(trace.duration_ms)}, from ${trace.start_time}`);
  if (trace.truncated) lines.push('  (the trace is spread over more stored records than one answer reads: some spans are not shown)');
  if (trace.deep_link) lines.push(`  ${trace.deep_link}`);
  lines.push('');
  const startNs = BigInt(trace.spans.reduce((min, s) => (BigInt(s.start_time_unix_nano) < BigInt(min) ? s.start_time_unix_nano : min), trace.spans[0]?.start_time_unix_nano ?? '0'));
  const nameCol = (s: TraceSpan): string => `${'  '.repeat(s.depth)}${s.depth > 0 ? '└ ' : ''}${s.name}`;
  const width = Math.min(64, Math.max(4, ...trace.spans.map((s) => nameCol(s).length)));
  const rows = trace.spans.map((s) => {
    const offset = Number(BigInt(s.start_time_unix_nano) - startNs) / 1e6;
    return [cut(nameCol(s), width), s.service, s.kind, s.status.code, ms(s.duration_ms), `+${ms(offset)}`, s.status.message ? cut(s.status.message, 80) : ''];
  });
  const spanLines = table(['SPAN', 'SERVICE', 'KIND', 'STATUS', 'DURATION', 'START', 'MESSAGE'], rows, new Set([4, 5]));
  lines.push(spanLines[0]!);
  trace.spans.forEach((s, i) => {
    lines.push(spanLines[i + 1]!);
    for (const e of s.events) lines.push(`${'  '.repeat(s.depth + 1)}  • ${e.name} ${hhmmss(nanosToIso(e.time_unix_nano))}${Object.keys(e.attributes).length ? ` ${cut(JSON.stringify(e.attributes), 100)}` : ''}`);
  });
  lines.push('');
  lines.push(`logs: ${logs.records.length}${logs.truncated ? ' (more exist: --logs raises the cap)' : ''}`);
  for (const l of logs.records) lines.push(`  ${l.time}  ${pad(l.severity_text ?? String(l.severity_number), 5)}  ${l.service}  ${cut(l.body, 160)}${l.span_id ? `  [span ${l.span_id}]` : ''}`);
  lines.push('');
  if (!timeline.available) lines.push(`timeline: not shown — ${timeline.reason}`);
  else {
    lines.push(`timeline: ${timeline.events.length} event(s)`);
    for (const e of timeline.events) lines.push(`  ${e.ts}  ${e.kind}${e.resource_type ? `  ${e.resource_type}/${e.resource_id ?? ''}` : ''}${e.actor ? `  by ${e.actor}` : ''}`);
  }
  lines.push('');
  lines.push(`decisions: ${decisions.length}`);
  for (const d of decisions) {
    const parts = [d.time, `${d.kind} ${d.effect.toUpperCase()}`, d.service, d.reason ? `"${cut(d.reason, 120)}"` : '', d.scope ? `scope ${d.scope}` : '', d.policy_version ? `policy ${d.policy_version}` : '', d.rule_ids.length ? `rules ${d.rule_ids.join(',')}` : '', d.resource ? `on ${d.resource}` : ''];
    lines.push(`  ${parts.filter(Boolean).join('  ')}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- registration ---------------------------------------------------------------------------

export function registerObs(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const obs = program.command('obs').description('observability from the service: live route, service and job stats; one trace with its logs, timeline events and decisions');

  ctx.action(
    withServerOptions(
      obs
        .command('top')
        .description('live view, redrawn every --interval seconds until Ctrl-C: rate, error ratio and p95 per service and route, service health, and running, queued and failed jobs (needs stella:obs:read; jobs also stella:timeline:read)')
        .option('--interval <seconds>', 'seconds between refreshes', '2')
        .option('--window <duration>', 'rates, errors and p95 over the last 30s, 5m, 1h, … (what the service computes them over)', '5m')
        .option('--jobs-window <duration>', 'jobs whose latest timeline event is at most this old', '1h')
        .option('--service <name>', 'only this service')
        .option('--limit <n>', 'routes shown, the busiest first', '20')
        .option('--once', 'print one frame and exit (with --json: one JSON document)')
        .addHelpText(
          'after',
          [
            '',
            'Routes and services come from the spans the service stored: server and consumer spans per',
            'http.route (or span name), as GET /obs/routes and GET /obs/health compute them. The service has no',
            'job API: jobs are the tenant\'s job.scheduled, job.started, job.finished and job.failed timeline',
            'events (GET /timeline?kind=job.*), each job in its latest state; a job that started before',
            '--jobs-window is not seen. Without stella:timeline:read the jobs are left out, and the frame says so.',
            '',
            'Each refresh is its own request with a new traceparent; its trace_id heads the frame and is',
            'printed on stderr (unless stderr is the terminal the view is drawn on). On a terminal the view is',
            'redrawn in place; piped, frames follow one another. Ctrl-C ends it with exit 0. A refresh that',
            'cannot reach the service is shown and retried; any other error answer ends the command (exit 2).',
            '',
            'Examples:',
            '  stella obs top',
            '  stella obs top --window 15m --service policy-engine --interval 5',
            '  stella obs top --once --json | jq \'.routes[] | select(.error_ratio > 0.01)\'',
          ].join('\n'),
        ),
    ),
    async (_args, opts: ServerOptions & { interval: string; window: string; jobsWindow: string; service?: string; limit: string; once?: boolean; json?: boolean }): Promise<CommandResult> => {
      const intervalS = positiveNumber('--interval', opts.interval, 0.2, 3600);
      const top: TopOptions = {
        windowMs: durationMs('--window', opts.window),
        jobsWindowMs: durationMs('--jobs-window', opts.jobsWindow),
        service: opts.service,
        limit: Math.floor(positiveNumber('--limit', opts.limit, 1, 1000)),
      };
      if (opts.json && !opts.once) throw new CliError('usage', '--json prints one document: use it with --once (stella obs top --once --json)');
      if (opts.once) {
        const frame = await topFrame(opts, io, top);
        io.stderr(`trace_id ${frame.trace_id}\n`);
        return { exitCode: EXIT.ok, json: frameJson(frame), human: renderTop(frame, top, undefined) };
      }
      const redraw = io.stdoutIsTTY === true;
      let frames = 0;
      await untilInterrupted(io, async (signal) => {
        while (!signal.aborted) {
          let output: string;
          let traceId: string | undefined;
          try {
            const frame = await topFrame(opts, io, top, signal);
            traceId = frame.trace_id;
            output = renderTop(frame, top, { intervalS });
          } catch (error) {
            if (signal.aborted) break;
            // Only an unreachable service is waited out; a refusal will not change by asking again.
            if (frames === 0 || !(error instanceof CliError) || error.code !== 'server_unreachable') throw error;
            output = `stella obs top — refresh failed at ${new Date().toISOString()}, retrying every ${intervalS} s: ${error.message}\n`;
          }
          if (signal.aborted) break;
          io.stdout(redraw ? HOME_AND_CLEAR + output : `${frames > 0 ? '\n' : ''}${output}`);
          if (traceId && !(redraw && io.stderrIsTTY)) io.stderr(`trace_id ${traceId}\n`);
          frames++;
          await pause(intervalS * 1000, signal);
        }
      });
      return { exitCode: EXIT.ok, json: { ok: true, frames }, human: redraw ? '\n' : '' };
    },
  );

  ctx.action(
    withServerOptions(
      obs
        .command('trace')
        .argument('<trace-id>', 'the trace id: 32 hex characters (as stella commands, logs and the Console print it)')
        .description("one trace as an indented span tree (service, kind, status, duration, start offset, events), with its log records, timeline events and decisions (needs stella:obs:read; timeline events also stella:timeline:read)")
        .option('--logs <n>', 'log records shown at most, up to the service\'s STELLA_OBS_MAX_RESULTS (default: the service\'s, 100)')
        .addHelpText(
          'after',
          [
            '',
            'Spans come from GET /obs/trace/<id>: every stored span, depth-first, children by start time; a span',
            'whose parent was not received (the caller did not export it) starts the tree. Logs are the',
            'records that carry the trace id (GET /obs/logs, from a minute before the trace to five minutes',
            'after it); timeline events are those that name the trace (GET /timeline?trace_id=). Decisions are',
            'authz and policy decision logs (decision_effect, decision_reason, rule ids, policy version) and the',
            'stella.authz.* / stella.policy.* attributes of spans that no decision log covers.',
            '',
            'The command sends its own traceparent and prints that trace id on stderr; --json prints one',
            'document: {trace, logs, timeline, decisions, trace_id}, the trace and attributes as the service',
            'answers them. An unknown trace is the service\'s 404 obs.trace_not_found (exit 2).',
            '',
            'Example:',
            '  stella obs trace 4bf92f3577b34da6a3ce929d0e0e4736',
          ].join('\n'),
        ),
    ),
    async ([traceIdArg], opts: ServerOptions & { logs?: string }): Promise<CommandResult> => {
      const traceId = (traceIdArg ?? '').toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) throw new CliError('usage', `"${traceIdArg ?? ''}" is not a trace id: 32 hex characters, not all zero`);
      const logLimit = opts.logs === undefined ? undefined : Math.floor(positiveNumber('--logs', opts.logs, 1, 100_000));
      const conn = connect(opts, io);
      const trace = await requestJson<TraceView>(conn, 'GET', `/obs/trace/${traceId}`);
      const startMs = Date.parse(trace.start_time);
      const logQuery = new URLSearchParams({
        trace_id: traceId,
        from: new Date(startMs - 60_000).toISOString(),
        to: new Date(startMs + Math.ceil(trace.duration_ms) + 5 * 60_000).toISOString(),
        ...(logLimit !== undefined ? { limit: String(logLimit) } : {}),
      });
      const [logs, timeline] = await Promise.all([
        requestJson<{ truncated: boolean; logs: LogRecord[] }>(conn, 'GET', `/obs/logs?${logQuery.toString()}`),
        requestJson<TimelinePage>(conn, 'GET', `/timeline?${new URLSearchParams({ trace_id: traceId, limit: '1000' }).toString()}`).then(
          (page) => ({ available: true as const, events: [...page.events].reverse() }),
          (error: unknown) => {
            const scope = deniedScope(error);
            if (scope) return { available: false as const, reason: `the token lacks ${scope}` };
            throw error;
          },
        ),
      ]);
      // Oldest first, like the spans.
      const records = [...logs.logs].reverse();
      const decisions = decisionsOf(trace, records);
      io.stderr(`trace_id ${conn.traceId}\n`);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, trace, logs: { records, truncated: logs.truncated }, timeline, decisions, trace_id: conn.traceId },
        human: renderTrace(trace, { records, truncated: logs.truncated }, timeline, decisions),
      };
    },
  );
}
