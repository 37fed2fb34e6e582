/**
 * `/console`: the Console's page and files. The page and its files are public — they hold no
 * data; every API call the Console makes carries the signed-in user's token. `/console/<path>`
 * serves a file of the build, and any other path that does not name a file (no extension, not
 * under `assets/`) serves the page, so the Console's own routes (`/console/trace/<id>`) load
 * directly. The page is sent with a Content-Security-Policy that allows only this origin; the
 * hashed assets are cached for good, the page is revalidated. Without a build, `/console`
 * answers a 503 page that says how to build it. These routes are not part of the API: they are
 * left out of `/openapi.json`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.js';
import type { ServiceApp } from '../service-feature.js';
import type { ConsoleAssets, ConsoleFile } from './console-assets.js';

/** What the page may load and where it may connect: this origin only, never framed. */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>StellaOps Console is not built</title></head>
<body>
<main>
<h1>The StellaOps Console is not built</h1>
<p>This service serves the Console from a directory of built files (<code>STELLA_CONSOLE_DIR</code>, by default
<code>packages/console/dist</code> in the repository), and that directory holds no <code>index.html</code>.</p>
<p>Build it in the repository with <code>npm run build</code> (<code>npm ci</code> builds it too), then reload this page;
or point <code>STELLA_CONSOLE_DIR</code> at a built Console and restart the service.</p>
<p>The API itself is up: <a href="/openapi.json">/openapi.json</a> describes it.</p>
</main>
</body>
</html>
`;

/** A path under /console that names a file rather than a client route. */
function namesFile(path: string): boolean {
  return path.startsWith('assets/') || /\.[A-Za-z0-9]+$/.test(path);
}

function send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, page: boolean): FastifyReply {
  reply
    .header('content-type', file.contentType)
    .header('x-content-type-options', 'nosniff')
    .header('etag', file.etag)
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (page) reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
  if (file.gzip) reply.header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const gzip = file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzip : file.body);
}

export function consoleRoutes(app: ServiceApp, assets: ConsoleAssets): void {
  const serve = async (request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> => {
    const files = await assets.current();
    if (!files) {
      return reply
        .code(503)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'none'")
        .header('retry-after', '60')
        .send(NOT_BUILT_PAGE);
    }
    const file = path === '' ? undefined : files.get(path);
    if (file) return send(request, reply, file, path === 'index.html');
    if (path !== '' && namesFile(path)) throw new ServiceError('route.not_found', `the Console has no file ${path.slice(0, 200)}`);
    const page = files.get('index.html');
    if (!page) throw new ServiceError('route.not_found', 'the Console build has no index.html');
    return send(request, reply, page, true);
  };
  app.get('/console', { schema: { hide: true } }, (request, reply) => serve(request, reply, ''));
  app.get('/console/*', { schema: { hide: true } }, (request, reply) => serve(request, reply, (request.params as { '*': string })['*']));
}
