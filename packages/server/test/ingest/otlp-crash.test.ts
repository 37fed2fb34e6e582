/**
 * A 2xx means preserved (STO-5): the real service runs as a child process, OTLP spans and logs
 * arrive from several concurrent clients, and the child is killed with SIGKILL in the middle.
 * After a restart on the same data directory every span and log record that got a 200 is
 * readable, and no trace is half visible. Repeated, so kills land at different points.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DevAuthority } from '../../src/auth/dev-authority.js';
import { createService, resolveConfig } from '../../src/index.js';
import { logBody as otlpLogBody, traceBody as otlpTraceBody } from '../otlp/otlp-bodies.js';
import { startServiceProcess } from '../helpers/service-process.js';

const TENANT = 'acme';
const SPANS_PER_TRACE = 3;

const traceBody = (traceId: Buffer): Uint8Array => otlpTraceBody(traceId, { service: 'crash-svc', spans: SPANS_PER_TRACE, rootName: 'GET /crash', pad: 200 });
const logBody = (marker: string): Uint8Array => otlpLogBody('crash-svc', marker);

describe('OTLP ingest killed with SIGKILL mid-stream', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps every acknowledged span and log record across repeated kills, and shows no trace half', { timeout: 240_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stella-otlp-crash-'));
    dirs.push(dataDir);
    const acked = { traces: [] as string[], logs: [] as string[] };
    const sent: string[] = [];

    for (let round = 0; round < 3; round++) {
      const child = await startServiceProcess({ args: ['--data-dir', dataDir, '--otlp-tenant-records-per-sec', '1000000'] });
      const token = await (await DevAuthority.open(dataDir)).mint({ tenant: TENANT, scopes: [`stella:telemetry:write#tenant/${TENANT}`] });
      let killed = false;
      let ackedThisRound = 0;
      const killAfter = 60 + round * 40;
      const post = async (signal: 'traces' | 'logs', body: Uint8Array): Promise<boolean> => {
        try {
          const res = await fetch(`${child.otlpHttpUrl}/v1/${signal}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' } });
          await res.arrayBuffer();
          return res.status === 200;
        } catch {
          return false; // connection reset by the kill: not acknowledged
        }
      };
      // Eight concurrent clients; the kill lands while requests are in flight.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!killed) {
            const traceId = randomBytes(16);
            const hex = traceId.toString('hex');
            sent.push(hex);
            const [tracesOk, logsOk] = await Promise.all([post('traces', traceBody(traceId)), post('logs', logBody(hex))]);
            if (tracesOk) acked.traces.push(hex);
            if (logsOk) acked.logs.push(hex);
            if (tracesOk && ++ackedThisRound >= killAfter && !killed) {
              killed = true;
              child.child.kill('SIGKILL');
            }
          }
        }),
      );
      expect((await child.exited).signal).toBe('SIGKILL');
    }

    // Restart in-process on the same data directory: recovery indexes what the index had not reached.
    const service = await createService({ config: resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'error'], {}) });
    try {
      const token = await service.devAuthority!.mint({ tenant: TENANT, scopes: [`stella:obs:read#tenant/${TENANT}`] });
      const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(acked.traces.length).toBeGreaterThan(150);
      const ackedSet = new Set(acked.traces);
      let present = 0;
      for (const traceId of sent) {
        const res = await get(`/obs/trace/${traceId}`);
        if (ackedSet.has(traceId)) expect(res.statusCode, `acknowledged trace ${traceId}`).toBe(200);
        if (res.statusCode === 200) {
          present++;
          // Never half a trace: a record is whole or absent.
          expect(res.json().span_count).toBe(SPANS_PER_TRACE);
        } else expect(res.statusCode).toBe(404);
      }
      expect(present).toBeGreaterThanOrEqual(acked.traces.length);
      const logs = await get(`/obs/logs?service=crash-svc&from=${new Date(Date.now() - 3_600_000).toISOString()}&limit=1000`);
      expect(logs.statusCode).toBe(200);
      const bodies = new Set((logs.json().logs as { body: string }[]).map((l) => l.body));
      for (const marker of acked.logs) expect(bodies.has(marker), `acknowledged log ${marker}`).toBe(true);
    } finally {
      await service.close();
    }
  });
});
