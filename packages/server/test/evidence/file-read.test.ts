/**
 * `GET /evidence/:bundle_id/files/*`: one file of a committed bundle, by its path in the
 * manifest, through the HTTP API — served with its digest and a content type by extension only
 * after its size and SHA-256 match the signed manifest; an altered stored object is refused
 * (never its bytes), a path the manifest does not list is a 404, another tenant's bundle is one
 * too, and a file over 16 MiB is sent to the archive.
 */
import { createHash } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from './forensics-service.js';

describe('reading one file of a bundle', () => {
  let ts: ForensicsTestService;
  let token: string;
  let bundleId: string;
  let files: { path: string; size: number; sha256: string }[];
  const sbom = JSON.stringify({ bomFormat: 'CycloneDX', components: [{ purl: 'pkg:npm/lodash@4.17.20' }] });
  const notes = '# Review\n\nLooks fine.\n';
  const transcript = 'step 1 ok\nstep 2 failed: exit 2\n';
  const binary = Buffer.from([0, 1, 2, 250, 255]);

  const get = (url: string, t = token) => ts.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t}` } });
  const objectPath = (path: string) => join(ts.dataDir, 'evidence', 'tenants', 'acme', 'evidence', 'case-f', bundleId, 'files', ...path.split('/'));

  beforeAll(async () => {
    ts = await startForensicsService();
    token = await ts.token('acme', ALL_SCOPES);
    const attach = async (role: string, name: string, content: string | Buffer) => {
      const res = await ts.service.app.inject({ method: 'POST', url: '/evidence/artifacts', headers: { authorization: `Bearer ${token}` }, payload: artifact('evaluation', 'eval-f', role, name, content) });
      expect(res.statusCode, res.body).toBe(201);
    };
    await attach('sbom', 'sbom.cdx.json', sbom);
    await attach('input', 'review notes.md', notes);
    await attach('input', 'transcript.log', transcript);
    await attach('input', 'blob.bin', binary);
    const snap = await ts.service.app.inject({ method: 'POST', url: '/evidence/snapshot', headers: { authorization: `Bearer ${token}` }, payload: { kind: 'evaluation', resource_id: 'eval-f', case_id: 'case-f' } });
    expect(snap.statusCode, snap.body).toBe(201);
    bundleId = snap.json<{ bundle_id: string }>().bundle_id;
    files = (await get(`/evidence/${bundleId}`)).json<{ manifest: { files: { path: string; size: number; sha256: string }[] } }>().manifest.files;
  });
  afterAll(async () => ts?.stop());

  const entry = (suffix: string) => {
    const found = files.find((f) => f.path.endsWith(suffix));
    if (!found) throw new Error(`no file ${suffix} in ${files.map((f) => f.path).join(', ')}`);
    return found;
  };

  it('serves a listed file as committed, with its digest and a content type by extension', async () => {
    const cases = [
      [entry('sbom.cdx.json'), sbom, 'application/json'],
      [entry('review notes.md'), notes, 'text/plain; charset=utf-8'],
      [entry('transcript.log'), transcript, 'text/plain; charset=utf-8'],
      [entry('blob.bin'), binary, 'application/octet-stream'],
    ] as const;
    for (const [file, content, type] of cases) {
      const res = await get(`/evidence/${bundleId}/files/${file.path.split('/').map(encodeURIComponent).join('/')}`);
      expect({ path: file.path, status: res.statusCode }).toEqual({ path: file.path, status: 200 });
      expect(res.rawPayload.equals(Buffer.from(content))).toBe(true);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['x-stella-file-digest']).toBe(`sha256:${createHash('sha256').update(content).digest('hex')}`);
      expect(res.headers['x-stella-file-digest']).toBe(`sha256:${file.sha256}`);
      expect(Number(res.headers['content-length'])).toBe(file.size);
    }
  });

  it('404s a path the manifest does not list, naming evidence.file_not_found, and an unknown bundle', async () => {
    for (const path of ['nope.json', 'sbom', 'sbom/', '../manifest.json', 'manifest.json', `${entry('sbom.cdx.json').path}x`]) {
      const res = await get(`/evidence/${bundleId}/files/${path}`);
      expect({ path, status: res.statusCode, code: res.json<{ error_code: string }>().error_code }).toEqual({ path, status: 404, code: expect.stringMatching(/^(evidence\.file_not_found|route\.not_found)$/) });
    }
    const missing = await get(`/evidence/${bundleId}/files/nope.json`);
    expect(missing.json()).toMatchObject({ error_code: 'evidence.file_not_found', field: 'params.*' });
    const unknown = await get(`/evidence/no-such-bundle/files/${entry('sbom.cdx.json').path}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error_code: 'evidence.not_found' });
  });

  it("hides another tenant's bundle, and needs stella:evidence:read", async () => {
    const other = await ts.token('globex', ALL_SCOPES);
    const res = await get(`/evidence/${bundleId}/files/${entry('sbom.cdx.json').path}`, other);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error_code: 'evidence.not_found' });
    expect(res.body).not.toContain('lodash');
    const noRead = await ts.token('acme', ['evidence:create']);
    const denied = await get(`/evidence/${bundleId}/files/${entry('sbom.cdx.json').path}`, noRead);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:evidence:read#tenant/acme' });
  });

  it('serves files up to 16 MiB, and sends a larger one to the archive with 413 evidence.file_too_large', async () => {
    const MiB = 1024 * 1024;
    // Committed the way the service's own features commit (an artifact upload is capped below 16 MiB).
    const row = await ts.service.parts.forensics.locker.commit('acme', {
      kind: 'export',
      caseId: 'case-big',
      resourceType: 'export',
      resourceId: 'exp-big',
      files: [
        { path: 'export/at-limit.bin', source: Buffer.alloc(16 * MiB, 1) },
        { path: 'export/over-limit.bin', source: Buffer.alloc(16 * MiB + 1, 2) },
      ],
    });
    const atLimit = await get(`/evidence/${row.id}/files/export/at-limit.bin`);
    expect(atLimit.statusCode).toBe(200);
    expect(atLimit.rawPayload.length).toBe(16 * MiB);
    const over = await get(`/evidence/${row.id}/files/export/over-limit.bin`);
    expect(over.statusCode).toBe(413);
    expect(over.json()).toEqual({
      error_code: 'evidence.file_too_large',
      field: 'params.*',
      message: `export/over-limit.bin is ${16 * MiB + 1} bytes, more than the ${16 * MiB} served as one file; download the bundle archive (GET /evidence/${row.id}/archive) instead`,
      allowed: { max_bytes: 16 * MiB },
    });
  });

  it('refuses a file whose stored bytes no longer match the signed manifest, and never sends them', async () => {
    const file = entry('transcript.log');
    const stored = objectPath(file.path);
    const original = await readFile(stored);
    // Committed objects are read-only: an attacker with the disk makes them writable first.
    await chmod(stored, 0o644);
    try {
      // Same size, one byte changed.
      const flipped = Buffer.from(original);
      flipped[flipped.indexOf('failed')] = 'F'.charCodeAt(0);
      await writeFile(stored, flipped);
      const res = await get(`/evidence/${bundleId}/files/${file.path}`);
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({
        error_code: 'evidence.integrity_failed',
        field: 'params.*',
        message: `bundle ${bundleId} fails verification: ${file.path} does not match the signed manifest (${file.size} bytes, sha256:${file.sha256}; stored: ${file.size} bytes, sha256:${createHash('sha256').update(flipped).digest('hex')}); its files are not served (GET /evidence/${bundleId} reports the verification)`,
      });
      expect(res.body).not.toContain('Failed');
      expect(res.headers['x-stella-file-digest']).toBeUndefined();
      // Longer than signed: refused without reading past the signed size.
      await writeFile(stored, Buffer.concat([original, Buffer.from('and more')]));
      const longer = await get(`/evidence/${bundleId}/files/${file.path}`);
      expect(longer.statusCode).toBe(500);
      expect(longer.json()).toMatchObject({ error_code: 'evidence.integrity_failed', message: expect.stringContaining(`${file.path} is longer than the ${file.size} bytes the signed manifest records`) });
      expect(longer.body).not.toContain('step 1');
      // The bundle's other files still verify one by one.
      expect((await get(`/evidence/${bundleId}/files/${entry('sbom.cdx.json').path}`)).statusCode).toBe(200);
      // And the bundle as a whole reports the failure.
      expect((await get(`/evidence/${bundleId}`)).json<{ verification: { ok: boolean } }>().verification.ok).toBe(false);
    } finally {
      await writeFile(stored, original);
      await chmod(stored, 0o444);
    }
    expect((await get(`/evidence/${bundleId}/files/${file.path}`)).statusCode).toBe(200);
  });

  it('refuses every file when the manifest itself was altered to match altered content', async () => {
    const file = entry('transcript.log');
    const stored = objectPath(file.path);
    const manifestPath = join(ts.dataDir, 'evidence', 'tenants', 'acme', 'evidence', 'case-f', bundleId, 'manifest.json');
    const [original, manifest] = [await readFile(stored), await readFile(manifestPath)];
    const forged = Buffer.from(original.toString('utf8').replace('failed', 'passed'));
    const forgedDigest = createHash('sha256').update(forged).digest('hex');
    await chmod(stored, 0o644);
    await chmod(manifestPath, 0o644);
    try {
      await writeFile(stored, forged);
      await writeFile(manifestPath, manifest.toString('utf8').replace(file.sha256, forgedDigest));
      const res = await get(`/evidence/${bundleId}/files/${file.path}`);
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ error_code: 'evidence.integrity_failed', message: expect.stringContaining('root recorded at commit') });
      expect(res.body).not.toContain('passed');
      expect((await get(`/evidence/${bundleId}/files/${entry('sbom.cdx.json').path}`)).json()).toMatchObject({ error_code: 'evidence.integrity_failed' });
    } finally {
      await writeFile(stored, original);
      await writeFile(manifestPath, manifest);
      await chmod(stored, 0o444);
      await chmod(manifestPath, 0o444);
    }
  });
});
