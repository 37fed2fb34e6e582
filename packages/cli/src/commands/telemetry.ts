/**
 * `stella telemetry …` (FOR-1, FOR-3, STO-4, STO-5, INC-1, CLI-3/4).
 *
 * - capture: downloads `GET /telemetry/exports/forensic/{window}` to a `.tar.gz` (a progress
 *   bar on a terminal), then verifies it against the service's capture key. The --out file is
 *   checked before the (audited) export is asked for; a window ending after now is clamped by
 *   the service and the output says so; if the file cannot be written after the export, the
 *   captured window and the command that fetches the same bundle again are printed (exit 2).
 * - signing-key: saves the public key captures are signed with, for offline verification.
 * - replay: verifies a capture offline against a trusted public key (refusing a bad bundle),
 *   then streams its OTLP records to an OTLP/HTTP receiver, in order, with bounded concurrency —
 *   for sealed environments that only have the bundle and a receiver.
 * - reindex, quarantine list|replay: the tenant's telemetry index and quarantined records.
 * - retention show|set: the tenant's hot, warm and cold tiers per signal, within the one
 *   retention policy of the service (a value outside it is refused naming the bound).
 * - incident on|off|status: switches or shows incident mode for the tenant (or one service).
 * - deep-debug on|off|status: relaxes e-mail and path redaction of one tenant's telemetry for a
 *   TTL (secrets never), ends it, or shows who switched it on, why and until when.
 * - deploy: fetches a signed Collector profile, verifies it against the key ring (the service's
 *   or --keyring) and only then writes config.yaml, its DSSE envelope and, with --k8s, a
 *   ConfigMap into --target; a different existing file is refused without --force.
 * - profile diff: the semantic difference of two profiles (names rendered locally, files or
 *   deployed directories).
 * - status: the service's readiness, incident modes, ingest counters and export failures, and
 *   the signature status of each deployed profile (--target, repeatable).
 *
 * Service commands take --server, --token/$STELLA_TOKEN, --tenant/$STELLA_TENANT and --json,
 * send a W3C `traceparent` and print the trace id.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import { resolveTenant, withServerOptions, type CommandContext, type ServerOptions } from '../context.js';
import { Destination, notWritten, shellArg } from '../download.js';
import { readPublicKeyPem } from '../key-files.js';
import { collectorConfigLib, forensicsLib, otlpReplayLib } from '../lazy.js';
import { CliError, EXIT } from '../output.js';
import { startProgress, type Progress } from '../progress.js';
import { connect, newTraceparent, request, requestJson, traced, type Connection } from '../service-client.js';
import { counterTotals, profileText, targetStatus, trustedKeyring, writeTarget, type ServedProfile, type TargetStatus } from '../profile-deploy.js';
import { failuresJson, signingTimeJson, timestampJson, verifyOnDisk } from '../verification.js';

/** The signals of a capture, in the order the CLI reports them (kept equal to the replay module's without loading it). */
const SIGNALS = ['traces', 'metrics', 'logs'] as const;
type Signal = (typeof SIGNALS)[number];
const OTLP_ENTRY = /^files\/otlp\/(traces|metrics|logs)\.pb$/;

/** An automatic incident capture, as the service records it (file relative to its data directory). */
interface CaptureRef {
  file: string;
  window: { from: string; to: string };
  manifest_sha256: string;
  items: number;
}

interface SigningKey {
  key_id: string;
  algorithm: string;
  public_key_pem: string;
}

/**
 * Passes a gzip download through unchanged while counting the bytes it inflates to: the service
 * announces the capture's uncompressed size, not its compressed one, so that is what progress
 * is measured against. Inflating is only worth it for a bar someone sees.
 */
function inflatedBytesMeter(progress: Progress): Transform {
  const inflate = createGunzip();
  inflate.on('data', (chunk: Buffer) => progress.add(chunk.length));
  // The download is verified once written; the meter only counts, and stops counting on an error.
  inflate.on('error', () => undefined);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflate.write(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      inflate.end();
      finished(inflate, () => callback());
    },
  });
}

/** True when the file starts with the gzip magic bytes. */
async function isGzipFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export function registerTelemetry(program: Command, ctx: CommandContext): void {
  const { io, path } = ctx;
  const telemetry = program
    .command('telemetry')
    .description('forensic capture, its signing key and replay; telemetry index, quarantine, retention tiers, incident mode, deep debug; signed Collector profiles: deploy, diff, status');

  ctx.action(
    withServerOptions(
      telemetry
        .command('capture')
        .description("download a signed forensic capture of the tenant's telemetry and verify it (needs stella:evidence:export; audited)")
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
      const progress = startProgress(io, 'capture', contentBytes);
      try {
        const body = Readable.fromWeb(res.body as never);
        if (io.stderrIsTTY) await pipeline(body, inflatedBytesMeter(progress), dest.stream());
        else await pipeline(body, dest.stream());
        progress.finish();
      } catch (error) {
        progress.finish();
        await dest.discard();
        throw new CliError('download_failed', `the capture stream broke off: ${(error as Error).message} (trace_id ${conn.traceId})`, { cause: error, hint: `fetch it again with: ${refetch}` });
      }
      try {
        await dest.commit();
      } catch (error) {
        await dest.discard();
        return notWritten(conn.traceId, { bundle: null, window: { from: capturedFrom ?? null, to: capturedTo ?? null }, window_clamped: clamped }, [`captured ${captured} (the export is recorded by the service)`, ...clampLine], error, refetch);
      }
      const out = dest.path;
      const key = await requestJson<SigningKey>(conn, 'GET', '/telemetry/exports/signing-key');
      const v = await verifyOnDisk(io, out, { publicKey: key.public_key_pem });
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
          signing_time: signingTimeJson(v.signingTime),
          timestamp: timestampJson(v.timestamp),
          failures: failuresJson(v.failures),
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
    withServerOptions(
      telemetry
        .command('signing-key')
        .description('save the public key forensic captures are signed with, for offline checks (stella forensic verify --key, stella telemetry replay --key); needs stella:evidence:export, stella:evidence:read or stella:obs:read')
        .requiredOption('--out <pub.pem>', 'file to write the public key (SPKI PEM) to; never overwrites'),
    ),
    async (_args, opts: ServerOptions & { out: string }) => {
      const conn = connect(opts, io);
      const dest = await Destination.reserve(path(opts.out));
      try {
        const key = await requestJson<SigningKey>(conn, 'GET', '/telemetry/exports/signing-key');
        // What is saved must be the public key the service names, and nothing else.
        let loaded: { keyId: string };
        try {
          loaded = (await forensicsLib()).loadPublicKey(key.public_key_pem);
        } catch (cause) {
          throw new CliError('key_invalid', `the service answered a capture signing key that is not a public key: ${(cause as Error).message} (trace_id ${conn.traceId})`, { cause });
        }
        if (/PRIVATE KEY/.test(key.public_key_pem) || loaded.keyId !== key.key_id) {
          throw new CliError('key_invalid', `the service answered a capture signing key whose id is not ${key.key_id}, or not a public key (trace_id ${conn.traceId})`);
        }
        await dest.writeBytes(Buffer.from(key.public_key_pem.endsWith('\n') ? key.public_key_pem : `${key.public_key_pem}\n`));
        await dest.commit();
        return traced(conn.traceId, true, { key_file: dest.path, key_id: key.key_id, algorithm: key.algorithm }, [`saved the capture signing key ${key.key_id} (${key.algorithm}) to ${dest.path}`]);
      } catch (error) {
        await dest.discard();
        throw error;
      }
    },
  );

  ctx.action(
    telemetry
      .command('replay')
      .description('verify a capture offline, then re-send its records to an OTLP/HTTP endpoint (the endpoint needs stella:telemetry:write)')
      .argument('<bundle>', 'capture bundle (.tar.gz, or the .tar inside it)')
      .requiredOption('--to <endpoint>', 'OTLP/HTTP base URL, e.g. http://127.0.0.1:4318')
      .requiredOption('--key <pub.pem>', 'trusted public key the capture must be signed with (SPKI PEM, from stella telemetry signing-key; a private key is refused)')
      .option('--token <jwt>', 'bearer token for the endpoint (default: $STELLA_TOKEN; none sends no Authorization)')
      .option('--tenant <tenant>', 'X-Stella-Tenant for the endpoint (default: $STELLA_TENANT)')
      .option('--concurrency <n>', 'requests in flight at once', '4')
      .option('--batch-bytes <n>', 'largest request body in bytes', String(1 << 20))
      .addHelpText(
        'after',
        '\nWith STELLA_SEALED=true (a sealed installation) --to must be loopback, or on the egress allowlist of the\ntelemetry policy file STELLA_TELEMETRY_POLICY names; anything else is refused before a request is made.\n\nExample:\n  stella telemetry replay incident.tar.gz --to http://127.0.0.1:4318 --key capture.pub.pem --token "$STELLA_TOKEN"',
      ),
    async ([bundle], opts: { to: string; key: string; token?: string; tenant?: string; concurrency: string; batchBytes: string }) => {
      const concurrency = Number(opts.concurrency);
      const batchBytes = Number(opts.batchBytes);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new CliError('usage', '--concurrency must be an integer from 1 to 64');
      if (!Number.isInteger(batchBytes) || batchBytes < 1024) throw new CliError('usage', '--batch-bytes must be an integer of at least 1024');
      const tenant = resolveTenant(opts.tenant, io);
      const { OtlpReplayer, clearReplayEndpoint } = await otlpReplayLib();
      await clearReplayEndpoint(opts.to, io.env); // a bad --to, or one a sealed host may not reach, is refused before any work
      const publicKey = await readPublicKeyPem(path(opts.key), '--key');
      const file = path(bundle!);
      const tp = newTraceparent();
      const v = await verifyOnDisk(io, file, { publicKey });
      if (!v.ok) {
        return traced(tp.traceId, false, { bundle, verified: false, failures: failuresJson(v.failures), sent: null }, [
          `REFUSED ${bundle}: the bundle does not verify; nothing was sent`,
          ...v.failures.map((f) => `  FAIL ${f.code}: ${f.message}`),
        ]);
      }
      const token = opts.token ?? io.env['STELLA_TOKEN'];
      const total = (v.manifest?.files ?? []).filter((f) => OTLP_ENTRY.test(`files/${f.path}`)).reduce((n, f) => n + f.size, 0);
      const progress = startProgress(io, 'replay', total);
      const replayer = new OtlpReplayer({
        to: opts.to,
        headers: { traceparent: tp.header, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(tenant ? { 'x-stella-tenant': tenant } : {}) },
        concurrency,
        batchBytes,
        progress,
        env: io.env,
      });
      const { readTar } = await forensicsLib();
      const raw = createReadStream(file);
      const tar = (await isGzipFile(file)) ? raw.pipe(createGunzip()) : raw;
      let problems: { code: string; message: string }[];
      try {
        problems = await readTar(replayer.paced(tar), (h) => {
          const signal = OTLP_ENTRY.exec(h.path)?.[1] as Signal | undefined;
          return signal ? replayer.entry(signal, h.size) : { write: () => undefined, end: () => undefined };
        });
        await replayer.drain();
      } catch (error) {
        await replayer.abort(error);
        const requests = SIGNALS.reduce((n, s) => n + replayer.sent[s].requests, 0);
        if (error instanceof CliError) {
          throw new CliError(error.code, `${error.message}; ${requests} request(s) had been sent (trace_id ${tp.traceId})`, { exitCode: error.exitCode, cause: error, ...(error.hint ? { hint: error.hint } : {}) });
        }
        throw error;
      } finally {
        raw.destroy();
        tar.destroy();
        progress.finish();
      }
      if (problems.length > 0) {
        // Verified a moment ago, different now: the file changed underneath.
        throw new CliError('bundle_changed', `${bundle} changed after it was verified: ${problems.map((p) => p.message).join('; ')}`, { exitCode: EXIT.invalid });
      }
      const meta = (v.manifest?.metadata ?? {}) as { counts?: Record<Signal, { items: number }> };
      return traced(tp.traceId, true, { bundle, verified: true, key_id: v.signer?.keyId ?? null, sent: replayer.sent, counts: meta.counts ?? null }, [
        `verified ${bundle} (signed by ${v.signer?.keyId ?? '?'}), replayed to ${opts.to}`,
        ...SIGNALS.map((s) => `  ${s}: ${replayer.sent[s].requests} request(s), ${replayer.sent[s].bytes} bytes`),
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
    const command = incident
      .command(state)
      .description(state === 'on' ? 'switch incident mode on (or extend it) for the tenant or one service (needs stella:incident:admin; audited)' : 'switch incident mode off (needs stella:incident:admin; audited)')
      .option('--service <name>', 'only this service of the tenant');
    if (state === 'on') command.option('--ttl <duration>', 'automatic revert after (4h, 90m, PT4H)', '4h');
    command.option('--reason <text>', 'why (recorded in the audit trail)');
    ctx.action(
      withServerOptions(command),
      async (_args, opts: ServerOptions & { service?: string; ttl?: string; reason?: string }) => {
        const conn = connect(opts, io);
        const body = { state, ...(opts.service ? { service: opts.service } : {}), ...(state === 'on' ? { ttl: opts.ttl } : {}), ...(opts.reason ? { reason: opts.reason } : {}) };
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
        incidents: {
          incident_id: string;
          service: string | null;
          started_at: string;
          ended_at: string | null;
          end_reason: string | null;
          reason: string;
          start_capture?: CaptureRef | null;
          stop_capture?: CaptureRef | null;
        }[];
      };
      const captureLine = (phase: string, c: CaptureRef | null | undefined): string[] =>
        c ? [`    capture at ${phase}: ${c.file} (${c.window.from} → ${c.window.to}, ${c.items} items, manifest sha256 ${c.manifest_sha256})`] : [];
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        res.modes.length === 0 ? `incident mode off for ${res.tenant}` : `incident mode ON for ${res.tenant}:`,
        ...res.modes.map((m) => `  ${m.service ?? '(all services)'} until ${m.expires_at ?? 'turned off'}`),
        ...(res.incidents.length ? ['recent incidents:'] : []),
        ...res.incidents
          .slice(0, 5)
          .flatMap((i) => [
            `  ${i.incident_id} ${i.service ?? '(all)'} ${i.started_at} → ${i.ended_at ?? 'active'}${i.end_reason ? ` (${i.end_reason})` : ''}: ${i.reason}`,
            ...captureLine('start', i.start_capture),
            ...captureLine('stop', i.stop_capture),
          ]),
      ]);
    },
  );

  const deepDebug = telemetry
    .command('deep-debug')
    .description("deep debug: e-mail addresses and paths shown unredacted in one tenant's telemetry, in every process, until a TTL (at most 24h); secrets stay redacted");
  interface Grant {
    grant_id: string;
    tenant: string;
    actor: string;
    reason: string;
    enabled_at: string;
    expires_at: string;
  }
  interface GrantRecord extends Grant {
    ended_at: string | null;
    end_reason: string | null;
    ended_by: string | null;
    off_reason: string | null;
  }
  interface DeepDebugStatus {
    tenant: string;
    state: 'on' | 'off';
    grants: Grant[];
    recent: GrantRecord[];
  }
  ctx.action(
    withServerOptions(
      deepDebug
        .command('on')
        .description('switch deep debug on for the tenant, or replace its grant with a new TTL (needs stella:telemetry:admin; audited)')
        .requiredOption('--ttl <duration>', 'how long until it ends by itself: 30m, 2h, 1800s or PT30M (at most 24h)')
        .requiredOption('--reason <text>', 'why (a ticket, an incident); recorded in the audit trail')
        .addHelpText('after', '\nExample:\n  stella telemetry deep-debug on --tenant acme --ttl 30m --reason "support case 4711"'),
    ),
    async (_args, opts: ServerOptions & { ttl: string; reason: string }) => {
      const conn = connect(opts, io);
      const res = await requestJson<{ state: 'on'; grant: GrantRecord; replaced: GrantRecord | null; grants: Grant[] }>(conn, 'POST', '/telemetry/deep-debug', {
        ...(conn.tenant ? { tenant: conn.tenant } : {}),
        ttl: opts.ttl,
        reason: opts.reason,
      });
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        `deep debug ON for ${res.grant.tenant} until ${res.grant.expires_at} (grant ${res.grant.grant_id}): e-mail addresses and paths unredacted, secrets still redacted`,
        ...(res.replaced ? [`  replaces grant ${res.replaced.grant_id}, which was to last until ${res.replaced.expires_at}`] : []),
      ]);
    },
  );
  ctx.action(
    withServerOptions(
      deepDebug
        .command('off')
        .description("end the tenant's deep-debug grant now: redaction is strict again in every process (needs stella:telemetry:admin; audited)")
        .option('--reason <text>', 'why it ends now (recorded in the audit trail)'),
    ),
    async (_args, opts: ServerOptions & { reason?: string }) => {
      const conn = connect(opts, io);
      // Without --tenant the token's one tenant is meant: the service names it.
      const tenant = conn.tenant ?? (await requestJson<DeepDebugStatus>(conn, 'GET', '/telemetry/deep-debug')).tenant;
      const query = opts.reason ? `?${new URLSearchParams({ reason: opts.reason }).toString()}` : '';
      const res = await requestJson<{ state: 'off'; grant: GrantRecord; grants: Grant[] }>(conn, 'DELETE', `/telemetry/deep-debug/${encodeURIComponent(tenant)}${query}`);
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        `deep debug OFF for ${res.grant.tenant} (grant ${res.grant.grant_id}, on since ${res.grant.enabled_at} by ${res.grant.actor}, ended ${res.grant.ended_at})`,
      ]);
    },
  );
  ctx.action(
    withServerOptions(deepDebug.command('status').description("show the tenant's deep-debug grant in force (who, why, until when) and its recent grants (needs stella:telemetry:admin, stella:obs:read or stella:telemetry:write)")),
    async (_args, opts: ServerOptions) => {
      const conn = connect(opts, io);
      const res = await requestJson<DeepDebugStatus>(conn, 'GET', '/telemetry/deep-debug');
      const ended = (g: GrantRecord): string => (g.end_reason === 'ttl' ? 'expired' : g.end_reason === 'replaced' ? `replaced by ${g.ended_by ?? '?'}` : `switched off by ${g.ended_by ?? '?'}${g.off_reason ? ` (${g.off_reason})` : ''}`);
      return traced(conn.traceId, true, res as unknown as Record<string, unknown>, [
        ...(res.grants.length === 0 ? [`deep debug off for ${res.tenant}`] : res.grants.map((g) => `deep debug ON for ${res.tenant} until ${g.expires_at}, by ${g.actor}: ${g.reason} (grant ${g.grant_id})`)),
        ...(res.recent.length ? ['recent grants:'] : []),
        ...res.recent.slice(0, 5).map((g) => `  ${g.grant_id} ${g.enabled_at} → ${g.ended_at ?? '?'} by ${g.actor}: ${g.reason}; ${ended(g)}`),
      ]);
    },
  );

  registerProfileCommands(telemetry, ctx);
}

function registerProfileCommands(telemetry: Command, ctx: CommandContext): void {
  const { io, path } = ctx;
  ctx.action(
    withServerOptions(
      telemetry
        .command('deploy')
        .description('fetch a signed Collector profile, verify it against the key ring, then write config.yaml and its signature (config.yaml.dsse.json) into --target (needs stella:telemetry:admin, and stella:evidence:read unless --keyring)')
        .requiredOption('--profile <name>', 'the profile: default, forensic or airgap')
        .requiredOption('--target <dir>', 'directory to write into (created if missing)')
        .option('--keyring <file>', "trusted key ring (from stella forensic keyring export); default: the service's")
        .option('--k8s', 'also write configmap.yaml: a Kubernetes ConfigMap holding the config and its signature')
        .option('--namespace <ns>', 'namespace of the ConfigMap', 'stellaops')
        .option('--force', 'replace files in --target that differ (the same content is left alone without it)')
        .addHelpText(
          'after',
          '\nNothing is written unless the signature verifies (exit 1). A file in --target with other content is refused (exit 2) unless --force; the same content again is a no-op.\n\nExample:\n  stella telemetry deploy --profile forensic --target /etc/otelcol --keyring ring.json --k8s',
        ),
    ),
    async (_args, opts: ServerOptions & { profile: string; target: string; keyring?: string; k8s?: boolean; namespace: string; force?: boolean }) => {
      const conn = connect(opts, io);
      const target = path(opts.target);
      const bundle = await requestJson<ServedProfile>(conn, 'GET', `/telemetry/config/profile/${encodeURIComponent(opts.profile)}`);
      const { keyring, source } = await trustedKeyring(opts.keyring ? path(opts.keyring) : undefined, conn);
      const lib = await collectorConfigLib();
      const v = lib.verifyProfileBundle(bundle.yaml, bundle.envelope, { keyring });
      if (!v.ok) {
        return traced(conn.traceId, false, { profile: opts.profile, target, verified: false, error: { code: v.code, message: v.message }, keyring: source, files: [] }, [
          `profile ${opts.profile} does NOT verify against ${source}: ${v.code}: ${v.message}`,
          `nothing was written to ${target}`,
        ]);
      }
      const files = new Map<string, string>([
        [lib.PROFILE_CONFIG_FILE, bundle.yaml],
        [lib.PROFILE_ENVELOPE_FILE, lib.serializeProfileEnvelope(bundle.envelope)],
      ]);
      if (opts.k8s) files.set(lib.PROFILE_CONFIGMAP_FILE, lib.profileConfigMap(bundle, { namespace: opts.namespace }));
      const written = await writeTarget(target, files, !!opts.force);
      return traced(
        conn.traceId,
        true,
        {
          profile: bundle.name,
          target,
          verified: true,
          profile_digest: bundle.profile_digest,
          collector: bundle.collector,
          sealed: bundle.sealed,
          key_ids: v.key_ids,
          keyring: source,
          files: written.map((w) => ({ path: w.file, outcome: w.outcome })),
        },
        [
          `profile ${bundle.name} (${bundle.collector.distribution} ${bundle.collector.version}${bundle.sealed ? ', sealed' : ''}) verified: ${bundle.profile_digest}, signed by ${v.key_ids.join(', ')} (key ring ${source})`,
          ...written.map((w) => `  ${w.outcome.padEnd(11)} ${w.file}`),
        ],
      );
    },
  );

  const profile = telemetry.command('profile').description('Collector profiles: compare them');
  ctx.action(
    profile
      .command('diff')
      .description('what a Collector would do differently under profile <b> than under <a>: components, pipelines and settings, never formatting (offline)')
      .argument('<a>', 'a profile name (default, forensic, airgap: rendered here), a config file, or a directory deployed by stella telemetry deploy')
      .argument('<b>', 'the same, compared against <a>')
      .addHelpText('after', '\nOne line per change: "~ path: before → after", "+ path: value", "- path: value". Exit 0 whether or not they differ.\n\nExample:\n  stella telemetry profile diff default forensic'),
    async ([a, b]) => {
      const lib = await collectorConfigLib();
      const left = await profileText(a!, path);
      const right = await profileText(b!, path);
      const changes = lib.diffProfiles(left.yaml, right.yaml);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, a: left.source, b: right.source, identical: changes.length === 0, changes },
        human: changes.length === 0 ? `${left.source} and ${right.source} configure the Collector alike` : `${left.source} → ${right.source}: ${changes.length} change${changes.length === 1 ? '' : 's'}\n${lib.formatProfileDiff(changes)}`,
      };
    },
  );

  ctx.action(
    withServerOptions(
      telemetry
        .command('status')
        .description("the service's readiness, incident modes, ingest rates now and counters since start, export failures, whether it is sealed, and the signature status (verified, tampered, untrusted, missing) of each deployed profile")
        .option('--target <dir>', 'a directory written by stella telemetry deploy (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
        .option('--keyring <file>', "trusted key ring for the deployed profiles; default: the service's (stella:evidence:read)")
        .addHelpText(
          'after',
          '\nExit 1 when a deployed profile does not verify; incident modes need stella:obs:read, ingest rates and the sealed state stella:obs:read or stella:telemetry:admin (each shown as unavailable without).\n\nExample:\n  stella telemetry status --target /etc/otelcol --keyring ring.json',
        ),
    ),
    async (_args, opts: ServerOptions & { target: string[]; keyring?: string }) => {
      const conn = connect(opts, io);
      const health = await (await fetchPublic(conn, '/healthz')).json().catch(() => null) as { status?: string } | null;
      const readyRes = await fetchPublic(conn, '/readyz');
      const ready = (await readyRes.json().catch(() => ({}))) as { status?: string; store?: unknown; bus?: unknown };
      const metrics = await (await fetchPublic(conn, '/metrics')).text();
      let incident: { available: boolean; modes: { service: string | null; expires_at: string | null }[]; error: string | null };
      try {
        const r = await requestJson<{ modes: { service: string | null; expires_at: string | null }[] }>(conn, 'GET', '/telemetry/incidents/mode');
        incident = { available: true, modes: r.modes.map((m) => ({ service: m.service, expires_at: m.expires_at })), error: null };
      } catch (error) {
        incident = { available: false, modes: [], error: (error as CliError).code ?? 'unavailable' };
      }
      // Rates now and the sealed state, from the service (an older service, or a token without the scope: unavailable).
      let now: { available: boolean; sealed: boolean | null; rates: IngestWindow[]; error: string | null };
      try {
        const r = await requestJson<{ sealed: boolean; ingest_rates: IngestWindow[] }>(conn, 'GET', '/telemetry/status');
        now = { available: true, sealed: r.sealed, rates: r.ingest_rates, error: null };
      } catch (error) {
        now = { available: false, sealed: null, rates: [], error: (error as CliError).code ?? 'unavailable' };
      }
      const ingest = {
        accepted_total: counterTotals(metrics, 'telemetry_receiver_accepted_total', 'signal'),
        refused_total: counterTotals(metrics, 'telemetry_receiver_refused_total', 'signal'),
        quarantined_total: counterTotals(metrics, 'stella_ingest_quarantined_total', 'signal'),
      };
      const exportFailures = counterTotals(metrics, 'collector_export_failures_total', 'signal');
      const targets: TargetStatus[] = [];
      let keyringSource: string | null = null;
      if (opts.target.length > 0) {
        const trust = await trustedKeyring(opts.keyring ? path(opts.keyring) : undefined, conn);
        keyringSource = trust.source;
        for (const t of opts.target) targets.push(await targetStatus(path(t), trust.keyring));
      }
      const profilesSealed = targets.length > 0 && targets.every((t) => t.sealed !== null) ? targets.every((t) => t.sealed) : null;
      const ok = targets.every((t) => t.status === 'verified');
      const sum = (r: Record<string, number>): string => (Object.keys(r).length ? Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') : 'none');
      return traced(
        conn.traceId,
        ok,
        {
          server: conn.base.origin,
          live: health?.status === 'ok',
          ready: ready.status === 'ready',
          readiness: { status: ready.status ?? `http_${readyRes.status}`, store: ready.store ?? null, bus: ready.bus ?? null },
          incident_mode: incident,
          ingest,
          ingest_rates: { available: now.available, windows: now.rates, error: now.error },
          export_failures_total: exportFailures,
          sealed: { service: now.sealed, profiles: profilesSealed },
          keyring: keyringSource,
          profiles: targets,
        },
        [
          `service ${conn.base.origin}: ${health?.status === 'ok' ? 'live' : 'NOT live'}, ${ready.status === 'ready' ? 'ready' : `NOT ready (${ready.status ?? readyRes.status})`}`,
          incident.available ? (incident.modes.length ? `incident mode ON: ${incident.modes.map((m) => `${m.service ?? '(all services)'} until ${m.expires_at ?? 'turned off'}`).join('; ')}` : 'incident mode off') : `incident mode: unavailable (${incident.error})`,
          `ingest since start: accepted ${sum(ingest.accepted_total)}; refused ${sum(ingest.refused_total)}; quarantined ${sum(ingest.quarantined_total)}`,
          now.available ? `ingest now: ${now.rates.map(describeWindow).join('; ')}` : `ingest now: unavailable (${now.error})`,
          `export failures since start: ${sum(exportFailures)}`,
          `service sealed: ${now.sealed === null ? `unknown (${now.error})` : now.sealed ? 'yes' : 'no'}`,
          ...(profilesSealed !== null ? [`deployed profiles sealed: ${profilesSealed ? 'yes' : 'no'}`] : []),
          ...targets.map((t) => `profile ${t.profile ?? '?'} in ${t.target}: ${t.status.toUpperCase()}${t.status === 'verified' ? ` (${t.digest}, signed by ${t.key_ids.join(', ')})` : ` — ${t.message}`}`),
        ],
      );
    },
  );
}

/** One window of `GET /telemetry/status`'s ingest rates. */
interface IngestWindow {
  window_seconds: number;
  signals: Record<string, { accepted_per_second: number; refused_per_second: number }>;
}

/** `last 60 s: traces 2/s (refused 0.1/s), logs 0.5/s, metrics 0/s`. */
function describeWindow(w: IngestWindow): string {
  const per = Object.entries(w.signals).map(([signal, r]) => `${signal} ${r.accepted_per_second}/s${r.refused_per_second > 0 ? ` (refused ${r.refused_per_second}/s)` : ''}`);
  return `last ${w.window_seconds} s: ${per.join(', ')}`;
}

/** A public endpoint of the service (health, metrics): any answer is reported, never thrown. */
async function fetchPublic(conn: Connection, path: string): Promise<Response> {
  try {
    return await fetch(new URL(path, conn.base), { headers: { traceparent: conn.headers['traceparent']! } });
  } catch (cause) {
    throw new CliError('server_unreachable', `cannot reach ${conn.base.origin}: ${(cause as Error).message} (trace_id ${conn.traceId})`, { cause });
  }
}
