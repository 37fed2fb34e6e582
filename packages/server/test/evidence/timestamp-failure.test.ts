/**
 * A snapshot whose RFC 3161 timestamp cannot be had is refused with 502
 * `evidence.timestamp_failed`, told apart by where the failure happened (the timestamper, or the
 * token it returned), never by the words of the error; nothing is committed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from './forensics-service.js';

describe('evidence snapshots when the timestamp authority fails', () => {
  let ts: ForensicsTestService | undefined;
  afterEach(async () => {
    await ts?.stop();
    ts = undefined;
  });

  async function snapshotWith(timestamper: (data: Uint8Array) => Promise<Uint8Array>) {
    ts = await startForensicsService({ features: { timestamper } });
    const token = await ts.token('acme', ALL_SCOPES);
    const call = (url: string, payload: unknown) => ts!.service.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as never });
    expect((await call('/evidence/artifacts', artifact('evaluation', 'eval-1', 'sbom', 'sbom.cdx.json', '{"bomFormat":"CycloneDX"}'))).statusCode).toBe(201);
    const res = await call('/evidence/snapshot', { kind: 'evaluation', resource_id: 'eval-1', case_id: 'case-1' });
    const listed = await ts.service.app.inject({ url: '/evidence', headers: { authorization: `Bearer ${token}` } });
    return { res, bundles: listed.json<{ bundles: unknown[] }>().bundles };
  }

  it('answers 502 evidence.timestamp_failed when the timestamper throws, whatever its message says', async () => {
    const { res, bundles } = await snapshotWith(async () => {
      throw new Error('socket hang up');
    });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error_code: 'evidence.timestamp_failed', message: 'the timestamp authority could not be reached: socket hang up' });
    expect(res.headers['retry-after']).toBeUndefined();
    expect(bundles).toEqual([]);
  });

  it('answers 502 evidence.timestamp_failed when the authority answers with something that is not a timestamp', async () => {
    const { res, bundles } = await snapshotWith(async () => new Uint8Array([1, 2, 3]));
    expect(res.statusCode).toBe(502);
    expect(res.json<{ error_code: string; message: string }>()).toMatchObject({ error_code: 'evidence.timestamp_failed' });
    expect(res.json<{ message: string }>().message).toMatch(/^the timestamp authority's answer was unusable: /);
    expect(bundles).toEqual([]);
  });
});
