/**
 * Inspecting and replaying the quarantine (STO-5), and rebuilding a tenant's telemetry index
 * from its segments:
 * - `GET /telemetry/quarantine` lists what was acknowledged but refused by its destination;
 * - `POST /telemetry/quarantine/replay` tries each entry again where it belongs (a telemetry
 *   record: its index rows derived again from the segment; a timeline message: published again
 *   on its subject — timeline events and the Release Orchestrator's DORA messages alike). Entries
 *   are marked replayed; a record refused again is quarantined anew;
 * - `POST /telemetry/reindex` drops the tenant's index rows and derives them from the segments.
 */
import { Type } from 'typebox';
import type { Bus } from '@stellaops/telemetry-core';
import type { AuditTrail } from '../timeline/audit-trail.js';
import { described } from '../http/openapi.js';
import { parseSegmentId } from '../segments/segment-path.js';
import type { TelemetryIndex } from '../segments/telemetry-index.js';
import type { ServiceApp } from '../service-feature.js';
import type { Quarantine, QuarantineSignal } from './quarantine.js';

export interface QuarantineRouteDeps {
  quarantine: Quarantine;
  index: TelemetryIndex;
  bus: Bus;
  audit: AuditTrail;
}

const SignalParam = Type.String({ pattern: '^(traces|logs|metrics|timeline|release)$', description: 'traces, logs, metrics, timeline or release (the Release Orchestrator\'s DORA messages)' });

const ListQuery = Type.Object(
  {
    signal: Type.Optional(SignalParam),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'entries, newest first; default 100' })),
    include_replayed: Type.Optional(Type.Boolean({ description: 'also entries already replayed' })),
  },
  { additionalProperties: false },
);

const Entry = Type.Object({
  quarantine_id: Type.String(),
  signal: Type.String(),
  reason: Type.String(),
  error: Type.String(),
  source: Type.String({ description: '`segment:<signal>/<hour>.<replica>@<offset>` (the record stays in its segment; `segment:<signal>/<hour>@<offset>` for data written before replica ids) or `bus:<subject>#<message id>`' }),
  payload: Type.Union([Type.String(), Type.Null()], { description: 'the message as received when no segment keeps it (UTF-8 text, or base64 when not text)' }),
  payload_encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64'), Type.Null()]),
  quarantined_at: Type.String(),
  replayed_at: Type.Union([Type.String(), Type.Null()]),
});

const ReplayBody = Type.Object({ signal: Type.Optional(SignalParam) }, { additionalProperties: false });
const ReplayResult = Type.Object({
  replayed: Type.Integer({ description: 'entries tried again and marked replayed' }),
  refused_again: Type.Integer({
    description: 'telemetry records refused again (quarantined anew); timeline messages go back to the indexer, and a refusal shows as a new entry',
  }),
});
const ReindexResult = Type.Object({ segments: Type.Integer(), records: Type.Integer() });

const BUS_SOURCE = /^bus:([^#]+)#(.+)$/;
const SEGMENT_SOURCE = /^segment:([a-z]+\/\d{8}T\d{2}(?:\.[A-Za-z0-9][A-Za-z0-9_-]{0,62})?)@(\d+)$/;

function payloadOut(payload: Buffer | null): { payload: string | null; payload_encoding: 'utf8' | 'base64' | null } {
  if (!payload) return { payload: null, payload_encoding: null };
  const text = payload.toString('utf8');
  return Buffer.from(text, 'utf8').equals(payload) ? { payload: text, payload_encoding: 'utf8' } : { payload: payload.toString('base64'), payload_encoding: 'base64' };
}

export function quarantineRoutes(app: ServiceApp, deps: QuarantineRouteDeps): void {
  const { quarantine, index, bus, audit } = deps;

  app.get(
    '/telemetry/quarantine',
    {
      schema: {
        operationId: 'listQuarantine',
        summary: "Records of the tenant that were acknowledged but refused by their destination, newest first",
        tags: ['telemetry'],
        querystring: ListQuery,
        response: { 200: Type.Object({ entries: Type.Array(Entry) }, { description: 'The quarantine entries, newest first' }) },
      },
    },
    async (request) => {
      const q = request.query;
      const entries = await quarantine.list(request.auth!.tenant, { signal: q.signal as QuarantineSignal | undefined, limit: q.limit, includeReplayed: q.include_replayed });
      return { entries: entries.map(({ payload, ...e }) => ({ ...e, ...payloadOut(payload) })) };
    },
  );

  app.post(
    '/telemetry/quarantine/replay',
    {
      schema: {
        operationId: 'replayQuarantine',
        summary: 'Try every open quarantine entry of the tenant again where it belongs (audited)',
        tags: ['telemetry'],
        body: ReplayBody,
        response: { 200: described('How many entries were tried again, and how many of them were refused again', ReplayResult) },
        'x-error-codes': ['bus.unavailable'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const entries = await quarantine.list(tenant, { signal: request.body.signal as QuarantineSignal | undefined, limit: 1000 });
      const before = [...quarantine.counts.values()].reduce((a, b) => a + b, 0);
      const done: string[] = [];
      for (const entry of entries) {
        const seg = SEGMENT_SOURCE.exec(entry.source);
        const msg = BUS_SOURCE.exec(entry.source);
        if (seg && parseSegmentId(seg[1]!)) {
          await index.replayRecord(tenant, seg[1]!, Number(seg[2]));
          done.push(entry.quarantine_id);
        } else if (msg && entry.payload) {
          // A fresh message id: the original may still be inside the bus's de-duplication window.
          await bus.publish(msg[1]!, entry.payload, { msgId: `${msg[2]!}.replay.${entry.quarantine_id}` });
          done.push(entry.quarantine_id);
        }
      }
      const replayed = await quarantine.markReplayed(tenant, done);
      await audit.event(tenant, { kind: 'audit.telemetry.quarantine_replayed', resource_type: 'tenant', resource_id: tenant, details: { replayed, signal: request.body.signal ?? 'all' } });
      return { replayed, refused_again: [...quarantine.counts.values()].reduce((a, b) => a + b, 0) - before };
    },
  );

  app.post(
    '/telemetry/reindex',
    {
      schema: {
        operationId: 'reindexTelemetry',
        summary: "Rebuild the tenant's telemetry index from its segments (audited)",
        tags: ['telemetry'],
        response: { 200: described('Segments read and records indexed again', ReindexResult) },
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      // Reindexing retries every telemetry record: open telemetry entries are settled by it (a record refused again is quarantined anew).
      const open = [...(await quarantine.list(tenant, { signal: 'traces', limit: 1000 })), ...(await quarantine.list(tenant, { signal: 'logs', limit: 1000 }))];
      await quarantine.markReplayed(tenant, open.map((e) => e.quarantine_id));
      const result = await index.reindex(tenant);
      await audit.event(tenant, { kind: 'audit.telemetry.reindexed', resource_type: 'tenant', resource_id: tenant, details: { ...result } });
      return result;
    },
  );
}
