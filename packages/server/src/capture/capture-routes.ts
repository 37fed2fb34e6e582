/**
 * FOR-1 over HTTP: `GET /telemetry/exports/forensic/{window}` streams the signed capture as
 * `application/gzip` (a gzip'ed bundle tar). Everything that can be refused is checked before
 * the first byte; the export is audited (AUTH-4) with the bundle's manifest digest once written.
 * A window that ends after now is clamped to now: `x-stella-capture-window` is the window
 * captured, `x-stella-capture-window-clamped` the end that was asked for (also in the bundle's
 * metadata and the audit event).
 */
import { PassThrough } from 'node:stream';
import { Type } from 'typebox';
import type { Logger } from '@stellaops/telemetry-core';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { ServiceConfig } from '../config.js';
import { binaryResponse } from '../http/openapi.js';
import { SafeId } from '../http/safe-schema.js';
import { parseCaptureWindow } from '../obs/time-window.js';
import type { ServiceApp } from '../service-feature.js';
import type { ForensicCapture } from './forensic-capture.js';
import type { Signer } from '@stellaops/forensics';

export interface CaptureRouteDeps {
  config: ServiceConfig;
  capture: ForensicCapture;
  signer: () => Signer;
  audit: AuditTrail;
  logger: Logger;
  clock: () => number;
  flushIndex: () => Promise<void>;
}

export function captureRoutes(app: ServiceApp, deps: CaptureRouteDeps): void {
  const { config, capture, audit, logger, clock } = deps;
  app.get(
    '/telemetry/exports/forensic/:window',
    {
      schema: {
        operationId: 'exportForensicCapture',
        summary: `Signed forensic capture of the tenant's telemetry (window: 24h, 90m, 7d, or <start>/<end>; at most ${config.captureMaxWindowHours} h) as a gzip'ed bundle tar`,
        tags: ['forensics'],
        params: Type.Object({ window: SafeId({ minLength: 1, maxLength: 120 }) }, { additionalProperties: false }),
        response: {
          200: binaryResponse('application/gzip', "The signed capture: a gzip'ed evidence bundle tar, streamed (verify it with `stella telemetry replay` or `stella forensic verify`)", {
            'Content-Disposition': 'attachment; filename="forensic-<tenant>-<from>-<to>.tar.gz"',
            'x-stella-capture-window': 'the window captured, `<from>/<to>` (RFC 3339)',
            'x-stella-capture-window-clamped': 'present when the window asked for ended after now: the end that was asked for',
            'x-stella-capture-content-bytes': 'bytes of telemetry in the capture',
            'x-stella-capture-items': 'spans, log records and data points in the capture',
          }),
        },
        'x-error-codes': ['capture.window_invalid', 'capture.window_too_wide'],
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const window = parseCaptureWindow(request.params.window, clock(), config.captureMaxWindowHours);
      const plan = await capture.plan(auth.tenant, window);
      const from = new Date(window.fromMs).toISOString();
      const to = new Date(window.toMs).toISOString();
      // A window ending after now was clamped to now: the answer says so (header, bundle metadata, audit).
      const requestedTo = window.requestedToMs !== undefined ? new Date(window.requestedToMs).toISOString() : undefined;
      if (requestedTo) void reply.header('x-stella-capture-window-clamped', requestedTo);
      const body = new PassThrough();
      const name = `forensic-${auth.tenant}-${from.replace(/[-:]/g, '').slice(0, 15)}-${to.replace(/[-:]/g, '').slice(0, 15)}.tar.gz`;
      void reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('x-stella-capture-window', `${from}/${to}`)
        .header('x-stella-capture-content-bytes', String(plan.contentBytes))
        .header('x-stella-capture-items', String(plan.counts.traces.items + plan.counts.logs.items + plan.counts.metrics.items));
      capture.write(plan, body).then(
        async ({ bundle }) => {
          // The download already streamed; a failure to record it is the service's to report, never the client's.
          await audit
            .event(auth.tenant, {
              kind: 'audit.telemetry.capture_exported',
              resource_type: 'forensic_capture',
              resource_id: `${from}/${to}`,
              details: {
                window: { from, to },
                ...(requestedTo ? { window_clamped: { requested_to: requestedTo, to } } : {}),
                manifest_sha256: bundle.manifestDigest,
                merkle_root: bundle.root,
                counts: { spans: plan.counts.traces.items, log_records: plan.counts.logs.items, data_points: plan.counts.metrics.items },
                granted_by: auth.grantedBy,
              },
            })
            .catch((error: unknown) => logger.error({ err: error, tenant_id: auth.tenant }, 'capture exported but its audit event could not be stored'));
        },
        (error: unknown) => {
          logger.error({ err: error, tenant_id: auth.tenant, error_code: 'capture.failed' }, 'forensic capture failed while streaming');
          body.destroy(error as Error);
        },
      );
      return reply.send(body as never);
    },
  );

  app.get(
    '/telemetry/exports/signing-key',
    {
      schema: {
        operationId: 'getCaptureSigningKey',
        summary: 'The public key forensic captures are signed with (for `stella telemetry replay --key` and offline verification)',
        tags: ['forensics'],
        response: {
          200: Type.Object({ key_id: Type.String(), algorithm: Type.String(), public_key_pem: Type.String() }, { description: 'The capture signing key: id, algorithm and public key (PEM)' }),
        },
      },
    },
    async () => {
      const signer = deps.signer();
      return { key_id: signer.keyId, algorithm: signer.algorithm, public_key_pem: signer.publicKeyPem };
    },
  );
}
