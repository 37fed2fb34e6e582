/**
 * The built Console (a directory of static files: `index.html` and hashed `assets/`), held in
 * memory: a build is a few hundred kilobytes, read once and gzipped once, and read again only
 * when its `index.html` changes (a rebuild), so a request costs one `stat`. The service never
 * imports the Console's code; it only serves these files.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ConsoleFile {
  body: Buffer;
  /** The gzipped body, when the type compresses and that saves something. */
  gzip: Buffer | undefined;
  contentType: string;
  /** Content-hashed names (Vite's `assets/`): cached for a year, never revalidated. */
  immutable: boolean;
  etag: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function readBuild(dir: string): Promise<Map<string, ConsoleFile>> {
  const files = new Map<string, ConsoleFile>();
  for (const path of await walk(dir)) {
    const body = await readFile(path);
    const ext = extname(path).toLowerCase();
    const gzip = COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
    const name = relative(dir, path).split(sep).join('/');
    files.set(name, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : undefined,
      contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      immutable: name.startsWith('assets/'),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}

export class ConsoleAssets {
  private loaded: { stamp: string; files: Promise<Map<string, ConsoleFile>> } | undefined;

  constructor(readonly dir: string) {}

  /** The files of the current build by path (`index.html`, `assets/index-<hash>.js`), or undefined when nothing is built. */
  async current(): Promise<ReadonlyMap<string, ConsoleFile> | undefined> {
    const index = await stat(join(this.dir, 'index.html')).catch(() => undefined);
    if (!index?.isFile()) {
      this.loaded = undefined;
      return undefined;
    }
    const stamp = `${index.mtimeMs}:${index.size}`;
    if (this.loaded?.stamp !== stamp) {
      const files = readBuild(this.dir);
      this.loaded = { stamp, files };
      // A build removed while it was read is read again on the next request.
      files.catch(() => {
        if (this.loaded?.files === files) this.loaded = undefined;
      });
    }
    return this.loaded.files;
  }
}
