/**
 * The dependency rules of docs/architecture.md, checked on the sources: no import circles in
 * any package; the libraries import nothing of ours; the CLI and collector-config import the
 * libraries they are allowed to; the Console imports nothing of ours and nothing imports it;
 * inside the service, data flows one way (the telemetry store imports none of its readers or writers) and only the composition
 * root knows the features. Imports are read with the TypeScript compiler's own pre-processor,
 * type-only imports included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const PACKAGES = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((name) => {
    try {
      return readdirSync(join(ROOT, 'packages', name, 'src')).length > 0;
    } catch {
      return false;
    }
  });

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module a file imports or re-exports (static and dynamic `import()`), as written. */
function specifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** A relative specifier resolved to the source file it names (`./x.js` is `./x.ts` in src/). */
function resolveLocal(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, join(base, 'index.ts')]) {
    if (files.has(candidate)) return candidate;
  }
  return undefined;
}

interface Graph {
  files: string[];
  edges: Map<string, string[]>;
  external: Map<string, string[]>;
}

function graphOf(pkg: string): Graph {
  const files = sources(join(ROOT, 'packages', pkg, 'src'));
  const set = new Set(files);
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const file of files) {
    const local: string[] = [];
    const other: string[] = [];
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.')) {
        const target = resolveLocal(file, spec, set);
        if (target) local.push(target);
      } else other.push(spec);
    }
    edges.set(file, local);
    external.set(file, other);
  }
  return { files, edges, external };
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Graph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.edges.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.edges.get(v) ?? []).includes(v)) found.push(component.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const file of graph.files) if (!indexOf.has(file)) visit(file);
  return found;
}

const graphs = new Map(PACKAGES.map((pkg) => [pkg, graphOf(pkg)]));

/** `@stellaops/<name>[/subpath]` imports of a package, by file. */
function ourImports(pkg: string): { file: string; spec: string }[] {
  const out: { file: string; spec: string }[] = [];
  for (const [file, specs] of graphs.get(pkg)!.external) for (const spec of specs) if (spec.startsWith('@stellaops/')) out.push({ file: relative(ROOT, file), spec });
  return out;
}

describe('import graph', () => {
  it('finds the packages', () => {
    expect(PACKAGES).toEqual(expect.arrayContaining(['telemetry-core', 'forensics', 'server', 'cli']));
  });

  for (const pkg of PACKAGES) {
    it(`${pkg}: no import circles`, () => {
      expect(cycles(graphs.get(pkg)!)).toEqual([]);
    });
  }

  it('telemetry-core and forensics import nothing of ours', () => {
    expect([...ourImports('telemetry-core'), ...ourImports('forensics')]).toEqual([]);
  });

  it('collector-config imports the forensics library and, of telemetry-core, only the dependency-free policy subpath', () => {
    if (!graphs.has('collector-config')) return;
    const allowed = /^@stellaops\/(forensics|telemetry-core\/policy)$/;
    expect(ourImports('collector-config').filter((i) => !allowed.test(i.spec))).toEqual([]);
  });

  it('the CLI imports the libraries, and of telemetry-core only its dependency-free rules (never the service)', () => {
    // tenant-id and scopes: the shared rules; egress and policy: the sealed-mode guard and its allowlist file (stella telemetry replay).
    const allowed = /^@stellaops\/(forensics|collector-config|telemetry-core\/(tenant-id|scopes|egress|policy))$/;
    expect(ourImports('cli').filter((i) => !allowed.test(i.spec))).toEqual([]);
  });

  it('the Console imports nothing of ours and nothing outside its package (it talks HTTP to the service), and no package imports the Console', () => {
    expect(graphs.has('console')).toBe(true);
    const consoleDir = join(ROOT, 'packages/console');
    const leaving = graphs.get('console')!.files.flatMap((file) =>
      specifiers(file)
        .filter((spec) => spec.startsWith('.') && !resolve(dirname(file), spec).startsWith(consoleDir + '/'))
        .map((spec) => ({ file: relative(ROOT, file), spec })),
    );
    expect([...ourImports('console'), ...leaving]).toEqual([]);
    const intoConsole = PACKAGES.filter((pkg) => pkg !== 'console').flatMap((pkg) =>
      graphs.get(pkg)!.files.flatMap((file) =>
        specifiers(file)
          .filter((spec) => spec.startsWith('@stellaops/console') || (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(consoleDir + '/')))
          .map((spec) => ({ file: relative(ROOT, file), spec })),
      ),
    );
    expect(intoConsole).toEqual([]);
  });

  describe('inside the service', () => {
    const server = graphs.get('server')!;
    const src = join(ROOT, 'packages/server/src');
    const folderOf = (file: string): string => relative(src, file).split('/')[0]!;
    const importsOf = (folder: string): { from: string; to: string }[] =>
      server.files.filter((f) => folderOf(f) === folder).flatMap((f) => (server.edges.get(f) ?? []).map((t) => ({ from: relative(src, f), to: relative(src, t) })));

    it('the telemetry store imports none of its writers or readers (otlp, obs, incident, capture, slo, ingest routes)', () => {
      const readersAndWriters = new Set(['otlp', 'obs', 'incident', 'capture', 'slo']);
      const bad = importsOf('segments').filter((e) => readersAndWriters.has(e.to.split('/')[0]!) || e.to === 'ingest/quarantine-routes.ts');
      expect(bad).toEqual([]);
    });

    it('only the composition root knows the features and the service', () => {
      const root = new Set(['service.ts', 'features.ts', 'index.ts', 'main.ts']);
      const bad = server.files
        .filter((f) => !root.has(relative(src, f)))
        .flatMap((f) => (server.edges.get(f) ?? []).map((t) => ({ from: relative(src, f), to: relative(src, t) })))
        .filter((e) => e.to === 'service.ts' || e.to === 'features.ts' || (e.to.includes('/') && /-feature\.ts$/.test(e.to) && e.to.split('/')[0] !== e.from.split('/')[0]));
      expect(bad).toEqual([]);
    });
  });
});
