/**
 * `/console`: the service serves a built Console from STELLA_CONSOLE_DIR — the page for every
 * client route with a CSP that allows only this origin, hashed assets cached for good and
 * gzipped, no token needed, nothing outside the build — and a 503 page saying how to build it
 * while there is none. The build here is made by the test; the real one is driven in a browser
 * by packages/console/test/console-browser.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';

const PAGE = '<!doctype html><html lang="en"><head><script type="module" src="/console/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>\n';
const SCRIPT = `export const views = [${Array.from({ length: 400 }, (_, i) => `"view-${i}"`).join(',')}];\n`;

let consoleDir: string;
let ts: TestService;
beforeAll(async () => {
  consoleDir = mkdtempSync(join(tmpdir(), 'stella-console-dist-'));
  ts = await startTestService({ STELLA_OTLP_HTTP_PORT: '0', STELLA_OTLP_GRPC_PORT: '0', STELLA_CONSOLE_DIR: consoleDir });
});
afterAll(async () => {
  await ts?.stop();
  rmSync(consoleDir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => ts.service.app.inject({ method: 'GET', url, headers });

describe('the Console at /console', () => {
  it('answers a 503 page that says how to build it while nothing is built, then serves the build once there is one', async () => {
    const missing = await get('/console');
    expect(missing.statusCode).toBe(503);
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(missing.body).toContain('The StellaOps Console is not built');
    expect(missing.body).toContain('npm run build');
    expect(missing.body).toContain('STELLA_CONSOLE_DIR');
    expect(missing.body).not.toContain(consoleDir);
    expect((await get('/console/trace/abc')).statusCode).toBe(503);

    mkdirSync(join(consoleDir, 'assets'));
    writeFileSync(join(consoleDir, 'assets', 'index-Ab12Cd34.js'), SCRIPT);
    writeFileSync(join(consoleDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(consoleDir, 'index.html'), PAGE);
    const page = await get('/console');
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(PAGE);
  });

  it('serves the page for the Console and its client routes, with a CSP of this origin only and no caching without revalidation', async () => {
    for (const url of ['/console', '/console/', '/console/trace/0af7651916cd43dd8448eb211c80319c', '/console/logs?q=timeout']) {
      const res = await get(url);
      expect({ url, status: res.statusCode, body: res.body }).toEqual({ url, status: 200, body: PAGE });
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    }
  });

  it('serves hashed assets for good, gzipped when asked, and answers 304 to a known ETag', async () => {
    const plain = await get('/console/assets/index-Ab12Cd34.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);

    const zipped = await get('/console/assets/index-Ab12Cd34.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['vary']).toBe('accept-encoding');
    expect(zipped.rawPayload.length).toBeLessThan(SCRIPT.length / 2);
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(SCRIPT);

    const again = await get('/console/assets/index-Ab12Cd34.js', { 'if-none-match': String(plain.headers['etag']) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const icon = await get('/console/favicon.svg');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers 404 for files the build does not have, and nothing outside it', async () => {
    for (const url of ['/console/assets/index-Zz99.js', '/console/missing.png', '/console/%2e%2e/%2e%2e/package.json', '/console/..%2f..%2fpackage.json', '/console/assets/']) {
      const res = await get(url);
      expect({ url, status: res.statusCode, code: res.json().error_code }).toEqual({ url, status: 404, code: 'route.not_found' });
    }
  });

  it('needs no token, and a bad one changes nothing', async () => {
    expect((await get('/console', { authorization: 'Bearer not.a.token' })).statusCode).toBe(200);
  });

  it('is not part of the API description', async () => {
    const doc = (await get('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });

  it('reads the build again when it changes', async () => {
    const rebuilt = PAGE.replace('Ab12Cd34', 'Ef56Gh78Ij');
    writeFileSync(join(consoleDir, 'assets', 'index-Ef56Gh78Ij.js'), SCRIPT);
    writeFileSync(join(consoleDir, 'index.html'), rebuilt);
    expect((await get('/console')).body).toBe(rebuilt);
    expect((await get('/console/assets/index-Ef56Gh78Ij.js')).statusCode).toBe(200);
  });
});
