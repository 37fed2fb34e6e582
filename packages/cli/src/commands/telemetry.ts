/**
 * `stella telemetry capture | replay | retention | incident` (FOR-1, FOR-3, STO-4, INC-1, CLI-3/4).
 *
 * - capture: downloads `GET /telemetry/exports/forensic/{window}` to a `.tar.gz` with a
 *   progress bar on stderr, then verifies it against the service's capture key. The --out file
 *   is checked before the (audited) export is asked for; a window ending after now is clamped
 *   by the service and the output says so; if the file cannot be written after the export, the
 *   captured window and the command that fetches the same bundle again are printed (exit 2).
 * - replay: verifies a capture offline against a trusted key (refusing a bad one), then
 *   re-sends its OTLP records over OTLP/HTTP protobuf, in order, with bounded concurrency —
 *   for sealed environments that only have the bundle and a receiver.
 * - retention show|set: the tenant's hot, warm and cold tiers per signal, within the one
 *   retention policy of the service (a value outside it is refused naming the bound).
 * - incident on|off|status: switches or shows incident mode for the tenant (or one service).
 *
 * Service commands take --server, --token/$STELLA_TOKEN, --tenant/$STELLA_TENANT and --json,
 * send a W3C `traceparent` and print the trace id.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import type { BundleVerification } from '@stellaops/forensics';
import { forensicsLib } from '../lazy.js';
import { Destination, notWritten, shellArg } from '../download.js';
import { CliError, EXIT, type CliIO } from '../output.js';
import { connect, newTraceparent, request, traced, withServerOptions, type ServerOptions } from '../service-client.js';

const SIGNALS = ['traces', 'metrics', 'logs'] as const;
type Signal = (typeof SIGNALS)[number];
import type { CommandContext } from '../program.js';



/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
class ProgressBar {
  private last = 0;
  constructor(
    private readonly io: CliIO,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    this.io.stderr(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(done / 1048576).toFixed(1)} MiB`);
  }

  finish(done: number): void {
    this.update(done, true);
    this.io.stderr('\n');
  }
}

function gunzipOf(file: string): Readable {
  return createReadStream(file).pipe(createGunzip());
}

/** Verifies a capture as it is on disk: the gzip wrapper in its one accepted form, then the bundle inside. */
async function verifyCapture(file: string, publicKey: string): Promise<BundleVerification> {
  try {
    return await (await forensicsLib()).verifyBundle(file, { publicKey });
  } catch (cause) {
    throw new CliError('bundle_unreadable', `${file} is not a readable gzip'ed bundle: ${(cause as Error).message}`, { exitCode: EXIT.invalid, cause });
  }
}

/** Regular-file entries of a (ustar) tar stream whose names start with `prefix`. */
async function tarEntries(source: Readable, prefix: string): Promise<Map<string, Buffer>> {
  const chunks: Buffer[] = [];
  for await (const c of source) chunks.push(c as Buffer);
  const tar = Buffer.concat(chunks);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number): string => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const start = at + 512;
    if (type === '0' && name.startsWith(prefix)) out.set(name.slice(prefix.length), tar.subarray(start, start + size));
    at = start + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * Splits an Export*ServiceRequest into its top-level field-1 items (ResourceSpans /
 * ResourceMetrics / ResourceLogs) without decoding them, so each can be re-sent as is.
 */
export function splitExportRequest(bytes: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new CliError('bundle_corrupt', 'an OTLP file ends inside a varint', { exitCode: EXIT.invalid });
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
      if (shift > 49) throw new CliError('bundle_corrupt', 'an OTLP file has an over-long varint', { exitCode: EXIT.invalid });
    }
  };
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    if (key !== 0x0a) throw new CliError('bundle_corrupt', `unexpected protobuf field key ${key} at offset ${start}; expected resource entries (field 1)`, { exitCode: EXIT.invalid });
    const length = varint();
    if (at + length > bytes.length) throw new CliError('bundle_corrupt', `an OTLP entry at offset ${start} runs past the end of the file`, { exitCode: EXIT.invalid });
    at += length;
    items.push(bytes.subarray(start, at));
  }
  return items;
}

function otlpUrl(to: string, signal: Signal): string {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new CliError('usage', `--to "${to}" is not a URL (e.g. http://127.0.0.1:4318)`);
  }
  const base = url.href.replace(/\/+$/, '').replace(/\/v1\/(traces|metrics|logs)$/, '');
  return `${base}/v1/${signal}`;
}

async function sendWithRetry(url: string, body: Buffer, headers: Record<string, string>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...headers } });
    } catch (cause) {
      if (attempt >= attempts) throw new CliError('target_unreachable', `cannot reach ${new URL(url).origin}: ${(cause as Error).message}`, { exitCode: EXIT.invalid, cause });
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      continue;
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const retryable = res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504;
    if (!retryable || attempt >= attempts) {
      throw new CliError(res.headers.get('x-stella-error-code') ?? `http_${res.status}`, `the OTLP endpoint ${url} answered ${res.status}`, { exitCode: EXIT.invalid });
    }
    const after = Number(res.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 200 * 2 ** attempt));
  }
}

export function registerTelemetry(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const path = (p: string): string => resolve(io.cwd, p);
  const telemetry = program.command('telemetry').description('forensic capture and replay, retention tiers, incident mode');

  ctx.action(
    withServerOptions(
      telemetry
        .command('capture')
        .description("download a signed forensic capture of the tenant's telemetry and verify it")
        .requiredOption('--window <window>', 'how far back (24h, 90m, 7d) or an ISO interval <start>/<end>')
        .requiredOption('--out <file>', 'where to write the bundle (.tar.gz); must not exist'),
    ),
    async (_args, opts: ServerOptions & { window: string; out: string }) => {
      const conn = connect(opts, io);
      // Settled before the service records the (audited) export: an existing --out is refused here.
      const dest = await Destination.reserve(path(opts.out));
      let res: Response;
      try {
        res = await request(conn, 'GET', `/telemetry/exports/forensic/${encodeURIComponent(opts.window)}`);
      } catch (error) {
        await dest.discard();
        throw error;
      }
      const contentBytes = Number(res.headers.get('x-stella-capture-content-bytes') ?? 0);
      // The window the service captured (a window ending after now is clamped to now); the same
      // window gives the same bundle, so it is what fetching again asks for.
      const captured = res.headers.get('x-stella-capture-window') ?? opts.window;
      const requestedTo = res.headers.get('x-stella-capture-window-clamped');
      const [capturedFrom, capturedTo] = captured.split('/');
      const clamped = requestedTo ? { requested_to: requestedTo, to: capturedTo ?? null } : null;
      const clampLine = clamped ? [`  the window asked to end at ${clamped.requested_to}, after now: captured up to ${clamped.to} (clamped by the service)`] : [];
      const refetch = `stella telemetry capture --window ${shellArg(captured)} --out ${shellArg(opts.out)}`;
      const bar = new ProgressBar(io, 'capture', contentBytes);
      // Progress counts the bundle's uncompressed bytes (the server announces its content size).
      let inflated = 0;
      const meter = createGunzip();
      meter.on('data', (chunk: Buffer) => {
        inflated += chunk.length;
        bar.update(inflated);
      });
      meter.on('error', () => undefined);
      const tee = new PassThrough();
      tee.on('data', (chunk: Buffer) => meter.write(chunk));
      try {
        await pipeline(Readable.fromWeb(res.body as never), tee, dest.stream());
        meter.end();
        bar.finish(inflated);
      } catch (error) {
        await dest.discard();
        throw new CliError('download_failed', `the capture stream broke off: ${(error as Error).message}; fetch it again with: ${refetch} (trace_id ${conn.traceId})`, { exitCode: EXIT.invalid, cause: error });
      }
      try {
        await dest.commit();
      } catch (error) {
        await dest.discard();
        return notWritten(conn.traceId, { bundle: null, window: { from: capturedFrom ?? null, to: capturedTo ?? null }, window_clamped: clamped }, [`captured ${captured} (the export is recorded by the service)`, ...clampLine], error, refetch);
      }
      const out = dest.path;
      const key = (await (await request(conn, 'GET', '/telemetry/exports/signing-key')).json()) as { key_id: string; public_key_pem: string };
      const v = await verifyCapture(out, key.public_key_pem);
      const meta = (v.manifest?.metadata ?? {}) as { window?: { from: string; to: string }; counts?: Record<Signal, { items: number; records: number }> };
      const counts = meta.counts;
      return traced(
        conn.traceId,
        v.ok,
        {
          bundle: opts.out,
          window: meta.window ?? null,
          window_clamped: clamped,
          counts: counts ?? null,
          manifest_sha256: v.manifestDigest ?? null,
          key_id: key.key_id,
          verified: v.ok,
          signing_time: v.signingTime ?? null,
          timestamp: v.timestamp ?? null,
          failures: v.failures,
        },
        [
          `${v.ok ? 'captured' : 'INVALID capture'} ${opts.out}${meta.window ? ` (${meta.window.from} → ${meta.window.to})` : ''}`,
          ...clampLine,
          ...(counts ? [`  ${counts.traces.items} spans, ${counts.logs.items} log records, ${counts.metrics.items} data points`] : []),
          `  manifest sha256 ${v.manifestDigest ?? '-'}, signed by ${key.key_id}`,
          ...(v.timestamp ? [`  RFC 3161 timestamp over the signature: ${v.timestamp.genTime}${v.timestamp.tsa ? ` by ${v.timestamp.tsa}` : ''} (check it against the TSA root with stella forensic verify --tsa-ca)`] : []),
          ...v.failures.map((f) => `  FAIL ${f.code}: ${f.message}`),
        ],
      );
    },
  );

  ctx.action(
    telemetry
      .command('replay')
      .description('verify a capture, then re-send its records to an OTLP/HTTP endpoint (works offline)')
      .argument('<bundle>', 'capture bundle (.tar.gz)')
      .requiredOption('--to <endpoint>', 'OTLP/HTTP base URL, e.g. http://127.0.0.1:4318')
      .requiredOption('--key <pub.pem>', 'trusted SPKI PEM public key the capture must be signed with')
      .option('--token <jwt>', 'bearer token for the endpoint (default: $STELLA_TOKEN; none sends no Authorization)')
      .option('--tenant <tenant>', 'X-Stella-Tenant for the endpoint (default: $STELLA_TENANT)')
      .option('--concurrency <n>', 'requests in flight at once', '4')
      .option('--batch-bytes <n>', 'largest request body in bytes', String(1 << 20)),
    async ([bundle], opts: { to: string; key: string; token?: string; tenant?: string; concurrency: string; batchBytes: string }) => {
      const concurrency = Number(opts.concurrency);
      const batchBytes = Number(opts.batchBytes);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new CliError('usage', '--concurrency must be an integer from 1 to 64');
      if (!Number.isInteger(batchBytes) || batchBytes < 1024) throw new CliError('usage', '--batch-bytes must be an integer of at least 1024');
      let publicKey: string;
      try {
        publicKey = await readFile(path(opts.key), 'utf8');
      } catch (cause) {
        throw new CliError('usage', `cannot read --key ${opts.key}: ${(cause as Error).message}`, { cause });
      }
      const file = path(bundle!);
      const tp = newTraceparent();
      const v = await verifyCapture(file, publicKey);
      if (!v.ok) {
        return traced(tp.traceId, false, { bundle, verified: false, failures: v.failures, sent: null }, [
          `REFUSED ${bundle}: the bundle does not verify; nothing was sent`,
          ...v.failures.map((f) => `  FAIL ${f.code}: ${f.message}`),
        ]);
      }
      const files = await tarEntries(gunzipOf(file), 'files/otlp/');
      const token = opts.token ?? io.env['STELLA_TOKEN'];
      const tenant = opts.tenant ?? io.env['STELLA_TENANT'];
      const headers: Record<string, string> = { traceparent: tp.header, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(tenant ? { 'x-stella-tenant': tenant } : {}) };
      const sent: Record<Signal, { requests: number; bytes: number }> = { traces: { requests: 0, bytes: 0 }, metrics: { requests: 0, bytes: 0 }, logs: { requests: 0, bytes: 0 } };
      const total = [...files.values()].reduce((n, b) => n + b.length, 0);
      const bar = new ProgressBar(io, 'replay', total);
      let done = 0;
      for (const signal of SIGNALS) {
        const bytes = files.get(`${signal}.pb`);
        if (!bytes || bytes.length === 0) continue;
        // Consecutive resource entries form each request, in bundle order.
        const batches: Buffer[] = [];
        let current: Buffer[] = [];
        let size = 0;
        for (const item of splitExportRequest(bytes)) {
          if (size + item.length > batchBytes && current.length > 0) {
            batches.push(Buffer.concat(current));
            current = [];
            size = 0;
          }
          current.push(item);
          size += item.length;
        }
        if (current.length > 0) batches.push(Buffer.concat(current));
        const url = otlpUrl(opts.to, signal);
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < batches.length) {
            const batch = batches[next++]!;
            await sendWithRetry(url, batch, headers);
            sent[signal].requests++;
            sent[signal].bytes += batch.length;
            done += batch.length;
            bar.update(done);
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      }
      bar.finish(done);
      const meta = (v.manifest?.metadata ?? {}) as { counts?: Record<Signal, { items: number }> };
      return traced(tp.traceId, true, { bundle, verified: true, key_id: v.signer?.keyId ?? null, sent, counts: meta.counts ?? null }, [
        `verified ${bundle} (signed by ${v.signer?.keyId ?? '?'}), replayed to ${opts.to}`,
        ...SIGNALS.map((s) => `  ${s}: ${sent[s].requests} request(s), ${sent[s].bytes} bytes`),
      ]);
    },
  );

  ctx.action(
    withServerOptions(telemetry.command('reindex').description("rebuild the tenant's telemetry index from its stored segments (needs stella:telemetry:admin; audited)")),
    async (_args, opts: ServerOptions) => {
      const conn = connect(opts, io);
      const res = (await (await request(conn, 'POST', '/telemetry/reindex')).json()) as { segments: number; records: number };
      return traced(conn.traceId, true, res, [`reindexed ${res.records} record(s) from ${res.segments} segment(s)`]);
    },
  );

  const quarantine = telemetry.command('quarantine').description('records that were acknowledged but refused by their destination (index, timeline)');
  ctx.action(
    withServerOptions(
      quarantine
        .command('list')
        .description("list the tenant's quarantined records, newest first")
        .option('--signal <signal>', 'traces, logs, metrics or timeline')
        .option('--limit <n>', 'most entries (1-1000)', '100')
        .option('--all', 'include entries already replayed'),
    ),
    async (_args, opts: ServerOptions & { signal?: string; limit: string; all?: boolean }) => {
      const conn = connect(opts, io);
      const query = new URLSearchParams({ limit: opts.limit, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.all ? { include_replayed: 'true' } : {}) });
      const res = (await (await request(conn, 'GET', `/telemetry/quarantine?${query.toString()}`)).json()) as {
        entries: { quarantine_id: string; signal: string; reason: string; error: string; source: string; quarantined_at: string; replayed_at: string | null }[];
      };
      return traced(conn.traceId, true, res, [
        res.entries.length === 0 ? 'quarantine is empty' : `${res.entries.length} quarantined record(s):`,
        ...res.entries.map((e) => `  ${e.quarantined_at} ${e.signal} ${e.reason} ${e.source}${e.replayed_at ? ` (replayed ${e.replayed_at})` : ''}\n    ${e.error}`),
      ]);
    },
  );
  ctx.action(
    withServerOptions(
      quarantine
        .command('replay')
        .description('try every open quarantined record again where it belongs (needs stella:telemetry:admin; audited)')
        .option('--signal <signal>', 'only traces, logs, metrics or timeline'),
    ),
    async (_args, opts: ServerOptions & { signal?: string }) => {
      const conn = connect(opts, io);
      const res = (await (await request(conn, 'POST', '/telemetry/quarantine/replay', opts.signal ? { signal: opts.signal } : {})).json()) as { replayed: number; refused_again: number };
      return traced(conn.traceId, true, res, [`replayed ${res.replayed} record(s); ${res.refused_again} telemetry record(s) refused again and quarantined anew`]);
    },
  );

  const retention = telemetry.command('retention').description("the tenant's telemetry retention tiers per signal (hot, warm, cold), within the retention policy");
  interface Tiers {
    hot_days: number;
    warm_days: number;
    cold_days: number;
    source: string;
  }
  interface RetentionView {
    tenant_id: string;
    signals: Record<Signal, Tiers>;
    allowed: { hot: { min_days: number; max_days: number }; warm: { min_days: number; max_days: number }; cold: { min_days: number; max_days: number } };
    policy: { timeline: { min_days: number; max_days: number }; evidence: { min_days: number; max_days: number }; audit_min_days: number };
    audit_event_id?: string;
  }
  const retentionLines = (res: RetentionView): string[] => [
    `telemetry retention for ${res.tenant_id} (days)`,
    `  ${'signal'.padEnd(8)} ${'hot'.padStart(4)} ${'warm'.padStart(5)} ${'cold'.padStart(5)}  source`,
    ...SIGNALS.map((s) => {
      const t = res.signals[s];
      return `  ${s.padEnd(8)} ${String(t.hot_days).padStart(4)} ${String(t.warm_days).padStart(5)} ${(t.cold_days > 0 ? String(t.cold_days) : '-').padStart(5)}  ${t.source}`;
    }),
    `  allowed: hot ${res.allowed.hot.min_days}-${res.allowed.hot.max_days}, warm ${res.allowed.warm.min_days}-${res.allowed.warm.max_days}, cold 0 or more than warm up to ${res.allowed.cold.max_days}`,
    `  policy: timeline ${res.policy.timeline.min_days}-${res.policy.timeline.max_days}, evidence ${res.policy.evidence.min_days}-${res.policy.evidence.max_days}; audit events kept at least ${res.policy.audit_min_days}; legal holds and incident windows are never pruned`,
  ];
  ctx.action(
    withServerOptions(retention.command('show').description('show the hot, warm and cold tiers of each signal and what may be set (needs stella:obs:read or stella:telemetry:admin)')),
    async (_args, opts: ServerOptions) => {
      const conn = connect(opts, io);
      const res = (await (await request(conn, 'GET', '/telemetry/retention')).json()) as RetentionView;
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, retentionLines(res));
    },
  );
  ctx.action(
    withServerOptions(
      retention
        .command('set')
        .description('change the tiers of one signal, or all (needs stella:telemetry:admin; audited; a value outside the policy is refused naming the bound)')
        .requiredOption('--signal <signal>', 'traces, logs, metrics or all')
        .option('--hot <days>', 'days the index rows are kept (searchable)')
        .option('--warm <days>', 'days the raw segments are kept')
        .option('--cold <days>', '0 (no cold tier) or the age up to which raw segments are kept past warm'),
    ),
    async (_args, opts: ServerOptions & { signal: string; hot?: string; warm?: string; cold?: string }) => {
      const signals = opts.signal === 'all' ? [...SIGNALS] : SIGNALS.filter((s) => s === opts.signal);
      if (signals.length === 0) throw new CliError('usage', `--signal must be traces, logs, metrics or all, not "${opts.signal}"`);
      const change: Record<string, number> = {};
      for (const [flag, key] of [['hot', 'hot_days'], ['warm', 'warm_days'], ['cold', 'cold_days']] as const) {
        const value = opts[flag];
        if (value === undefined) continue;
        if (!/^\d{1,5}$/.test(value)) throw new CliError('usage', `--${flag} must be a whole number of days, not "${value}"`);
        change[key] = Number(value);
      }
      if (Object.keys(change).length === 0) throw new CliError('usage', 'give at least one of --hot, --warm, --cold');
      const conn = connect(opts, io);
      const res = (await (await request(conn, 'PUT', '/telemetry/retention', { signals: Object.fromEntries(signals.map((s) => [s, change])) })).json()) as RetentionView;
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        `changed ${signals.join(', ')} retention (audit event ${res.audit_event_id ?? '?'})`,
        ...retentionLines(res),
      ]);
    },
  );

  const incident = telemetry.command('incident').description('incident mode: 100% sampling, debug breadcrumbs, extended retention, captures');
  for (const state of ['on', 'off'] as const) {
    ctx.action(
      withServerOptions(
        incident
          .command(state)
          .description(state === 'on' ? 'switch incident mode on for the tenant (or one service)' : 'switch incident mode off')
          .option('--service <name>', 'only this service of the tenant')
          .option('--ttl <duration>', state === 'on' ? 'automatic revert after (4h, 90m, PT4H); default 4h' : 'not used by off')
          .option('--reason <text>', 'why (recorded in the audit trail)'),
      ),
      async (_args, opts: ServerOptions & { service?: string; ttl?: string; reason?: string }) => {
        const conn = connect(opts, io);
        const body = { state, ...(opts.service ? { service: opts.service } : {}), ...(state === 'on' ? { ttl: opts.ttl ?? '4h' } : {}), ...(opts.reason ? { reason: opts.reason } : {}) };
        const res = (await (await request(conn, 'POST', '/telemetry/incidents/mode', body)).json()) as {
          state: string;
          extended: boolean;
          incident: { incident_id: string; tenant: string; service: string | null; expires_at: string; ended_at: string | null };
          modes: unknown[];
        };
        const scope = `${res.incident.tenant}${res.incident.service ? `/${res.incident.service}` : ''}`;
        return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
          state === 'on'
            ? `incident mode ${res.extended ? 'extended' : 'ON'} for ${scope} until ${res.incident.expires_at} (incident ${res.incident.incident_id})`
            : `incident mode OFF for ${scope} (incident ${res.incident.incident_id} ended ${res.incident.ended_at})`,
        ]);
      },
    );
  }
  ctx.action(
    withServerOptions(incident.command('status').description("show the tenant's incident modes and recent incidents")),
    async (_args, opts: ServerOptions) => {
      const conn = connect(opts, io);
      const res = (await (await request(conn, 'GET', '/telemetry/incidents/mode')).json()) as {
        tenant: string;
        modes: { service: string | null; expires_at: string | null }[];
        incidents: { incident_id: string; service: string | null; started_at: string; ended_at: string | null; end_reason: string | null; reason: string }[];
      };
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        res.modes.length === 0 ? `incident mode off for ${res.tenant}` : `incident mode ON for ${res.tenant}:`,
        ...res.modes.map((m) => `  ${m.service ?? '(all services)'} until ${m.expires_at ?? 'turned off'}`),
        ...(res.incidents.length ? ['recent incidents:'] : []),
        ...res.incidents.slice(0, 5).map((i) => `  ${i.incident_id} ${i.service ?? '(all)'} ${i.started_at} → ${i.ended_at ?? 'active'}${i.end_reason ? ` (${i.end_reason})` : ''}: ${i.reason}`),
      ]);
    },
  );
}
