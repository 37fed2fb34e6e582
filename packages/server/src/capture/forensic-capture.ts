/**
 * FOR-1/FOR-2: a forensic capture of one tenant's telemetry over a window, as a signed
 * evidence bundle (the forensics library's format, kind `export`):
 *
 *   files/otlp/traces.pb, files/otlp/metrics.pb, files/otlp/logs.pb — each one OTLP
 *   Export*ServiceRequest: the stored records received in the window, in segment order,
 *   concatenated (protobuf concatenation of one message type merges its repeated field, so the
 *   bytes are exactly the records as received, with no re-encoding);
 *   manifest.json (tenant, sha256 per file, Merkle root; `metadata` holds the window, record
 *   and item counts per signal and the segments used), manifest.sig, manifest.dsse.json.
 *
 * plus manifest.sigstore.json (the Sigstore bundle of the DSSE envelope) and, when a TSA is
 * configured (STELLA_EVIDENCE_TSA_URL), an RFC 3161 timestamp over the signature inside it.
 *
 * Deterministic: the selection depends only on the stored bytes and the window, record order
 * is file order, the tar mtimes and `createdAt` are the window's end, gzip writes no time and a
 * fixed header on every platform, and the signature is deterministic — so the same data and
 * window give byte-identical bundles. A TSA timestamp is the exception by nature (the TSA's
 * time and serial differ on every request).
 *
 * Never in the future: the HTTP route clamps a window that ends after now to now (and records
 * the end asked for in `metadata.window_clamped`), and `createdAt` is never later than the time
 * the capture is built — with a TSA, not later than the whole second before it, since the
 * timestamp proves when the signature existed and a claimed signing time after it is refused.
 */
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { buildEvidenceBundle, type EvidenceBundle, type JsonObject, type Signer } from '@stellaops/forensics';
import type { Logger } from '@stellaops/telemetry-core';
import { SIGNALS, type Signal } from '../segments/signal-records.js';
import { FRAME_HEADER_BYTES } from '../segments/segment-frame.js';
import { hourStart } from '../segments/segment-path.js';
import type { SegmentStore } from '../segments/segment-store.js';
import type { Window } from '../obs/time-window.js';
import type { CounterPoint, HistogramPoint } from '../self/service-metrics.js';

export const CAPTURE_TYPE = 'stellaops.telemetry.forensic-capture/v1';
const REQUEST_TYPES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};

interface SegmentSelection {
  signal: Signal;
  hour: string;
  /** The replica that wrote the segment (replicas sharing a segments directory); absent for one service. */
  replica?: string;
  /** The segment's file name without `.seg`. */
  name: string;
  path: string;
  sealed: boolean;
  /** [offset of payload, length] per selected record, in file order. */
  ranges: [number, number][];
  records: number;
  items: number;
  bytes: number;
}

export interface CapturePlan {
  tenant: string;
  /** The window captured; `requestedToMs` is the end asked for when it lay after now and was clamped. */
  window: Window & { requestedToMs?: number };
  segments: SegmentSelection[];
  counts: Record<Signal, { records: number; items: number; bytes: number }>;
  /** Bytes of the uncompressed tar's content files (for progress). */
  contentBytes: number;
}

export interface CaptureResult {
  bundle: EvidenceBundle;
  plan: CapturePlan;
}

export interface ForensicCaptureOptions {
  segments: SegmentStore;
  signer: () => Signer;
  logger: Logger;
  /** RFC 3161 stamping of each capture's signature (createHttpTimestamper); absent → no timestamp. */
  timestamper?: (data: Uint8Array) => Promise<Uint8Array>;
  /** Clock. Default Date.now. */
  clock?: () => number;
  /** FOR-4: `telemetry_bundle_generation_seconds{outcome}` and `telemetry_bundle_generation_failures_total`. Default: not measured. */
  metrics?: { duration: HistogramPoint; failures: CounterPoint };
}

/**
 * Sets the gzip header's XFL and OS bytes to the one accepted form (0 and 3): zlib writes the
 * OS it was built for, and the verifier accepts exactly one header. The header is not covered by
 * the gzip CRC, so this changes nothing else.
 */
function fixedGzipHeader(): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (seen >= 10) return done(null, chunk);
      const out = Buffer.from(chunk);
      for (let i = 0; i < out.length && seen + i < 10; i++) {
        if (seen + i === 8) out[i] = 0;
        if (seen + i === 9) out[i] = 3;
      }
      seen += out.length;
      done(null, out);
    },
  });
}

export class ForensicCapture {
  constructor(private readonly options: ForensicCaptureOptions) {}

  /** Selects the records of the window (frame headers only; no payload is read). */
  async plan(tenant: string, window: Window & { requestedToMs?: number }): Promise<CapturePlan> {
    const counts = Object.fromEntries(SIGNALS.map((s) => [s, { records: 0, items: 0, bytes: 0 }])) as CapturePlan['counts'];
    const selections: SegmentSelection[] = [];
    for (const signal of SIGNALS) {
      for (const seg of await this.options.segments.segmentsInWindow(tenant, signal, window.fromMs, window.toMs)) {
        const sel: SegmentSelection = { signal, hour: seg.hour, ...(seg.replica !== undefined ? { replica: seg.replica } : {}), name: seg.name, path: seg.path, sealed: seg.sealed, ranges: [], records: 0, items: 0, bytes: 0 };
        for await (const r of this.options.segments.records(tenant, signal, seg.name, { withPayload: false })) {
          if (r.receivedAtMs < window.fromMs || r.receivedAtMs >= window.toMs) continue;
          sel.ranges.push([r.offset + FRAME_HEADER_BYTES, r.length]);
          sel.bytes += r.length;
          sel.records++;
          sel.items += r.items;
        }
        if (sel.records > 0) selections.push(sel);
      }
    }
    for (const sel of selections) {
      const c = counts[sel.signal];
      c.records += sel.records;
      c.items += sel.items;
      c.bytes += sel.bytes;
    }
    return { tenant, window, segments: selections, counts, contentBytes: SIGNALS.reduce((n, s) => n + counts[s].bytes, 0) };
  }

  /**
   * Writes the bundle as a gzip'ed tar into `out` (not ended by this call unless `end`).
   * `onProgress` hears content bytes written.
   */
  async write(plan: CapturePlan, out: Writable, onProgress?: (bytes: number) => void): Promise<CaptureResult> {
    const started = performance.now();
    const gzip = createGzip({ level: 6 });
    const piping = pipeline(gzip, fixedGzipHeader(), out);
    try {
      const bundle = await this.build(plan, gzip, onProgress);
      gzip.end();
      await piping;
      this.options.metrics?.duration.record((performance.now() - started) / 1000, { outcome: 'success' });
      return { bundle, plan };
    } catch (error) {
      this.options.metrics?.failures.add(1);
      this.options.metrics?.duration.record((performance.now() - started) / 1000, { outcome: 'failure' });
      gzip.destroy(error as Error);
      await piping.catch(() => undefined);
      throw error;
    }
  }

  /** Writes the bundle to `path` (atomically: beside it, then renamed; never over an existing file). */
  async writeFile(plan: CapturePlan, path: string): Promise<CaptureResult> {
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial`;
    try {
      const result = await this.write(plan, createWriteStream(partial, { flags: 'w', mode: 0o644 }));
      await rename(partial, path);
      return result;
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private async build(plan: CapturePlan, tar: Gzip, onProgress?: (bytes: number) => void): Promise<EvidenceBundle> {
    const signer = this.options.signer();
    const files = SIGNALS.map((signal) => {
      const selections = plan.segments.filter((s) => s.signal === signal);
      return {
        path: `otlp/${signal}.pb`,
        size: plan.counts[signal].bytes,
        source: () => Readable.from(readRanges(selections, onProgress)),
      };
    });
    const from = new Date(plan.window.fromMs).toISOString();
    const to = new Date(plan.window.toMs).toISOString();
    const metadata: JsonObject = {
      type: CAPTURE_TYPE,
      window: { from, to },
      ...(plan.window.requestedToMs !== undefined ? { window_clamped: { requested_to: new Date(plan.window.requestedToMs).toISOString(), reason: 'the requested window ended after the capture was taken' } } : {}),
      counts: Object.fromEntries(SIGNALS.map((s) => [s, { ...plan.counts[s] }])) as JsonObject,
      message_types: { ...REQUEST_TYPES },
      segments: await Promise.all(
        plan.segments.map(async (s) => ({
          signal: s.signal,
          hour: new Date(hourStart(s.hour)).toISOString(),
          ...(s.replica !== undefined ? { replica: s.replica } : {}),
          records: s.records,
          items: s.items,
          bytes: s.bytes,
          first_offset: s.ranges[0]![0] - FRAME_HEADER_BYTES,
          sealed: s.sealed,
          // A sealed segment is pinned by its chunk manifest's digest (STO-3).
          ...(s.sealed ? { manifest_sha256: await manifestDigest(s.path) } : {}),
        })),
      ),
    };
    const stamp = this.options.timestamper;
    const clockNow = (this.options.clock ?? Date.now)();
    const now = stamp ? Math.floor(clockNow / 1000) * 1000 : clockNow;
    return buildEvidenceBundle({
      kind: 'export',
      tenant: plan.tenant,
      caseId: 'forensic-capture',
      resourceId: `telemetry:${plan.tenant}:${from}/${to}`,
      createdAt: plan.window.toMs <= now ? to : new Date(now),
      signer,
      files,
      metadata,
      ...(stamp ? { timestamper: stamp } : {}),
      output: { tarStream: tar },
    });
  }
}

async function manifestDigest(segmentPath: string): Promise<string> {
  const bytes = await readFile(segmentPath.replace(/\.seg$/, '.manifest.json'));
  return createHash('sha256').update(bytes).digest('hex');
}

/** Streams the selected payloads in order, coalescing adjacent reads. */
async function* readRanges(selections: SegmentSelection[], onProgress?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const MAX_READ = 1 << 20;
  for (const sel of selections) {
    const file = await open(sel.path, 'r');
    try {
      for (const [offset, length] of sel.ranges) {
        for (let done = 0; done < length; ) {
          const n = Math.min(MAX_READ, length - done);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await file.read(buf, 0, n, offset + done);
          if (bytesRead !== n) throw new Error(`segment ${sel.signal}/${sel.name} ended early at offset ${offset + done}`);
          done += n;
          onProgress?.(n);
          yield buf;
        }
      }
    } finally {
      await file.close();
    }
  }
}
