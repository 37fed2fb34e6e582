/**
 * The shape of the CLI's sources: no import cycle (type-only and dynamic imports included), one
 * file per command group, and the heavy libraries (crypto, protobufjs, OpenTelemetry) never
 * loaded by the import of a command file — `stella --help` loads only commander and the
 * dependency-free subpaths of telemetry-core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Import {
  specifier: string;
  /** `import type …`, or every binding type-only: erased from the JavaScript. */
  typeOnly: boolean;
  dynamic: boolean;
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      let typeOnly: boolean;
      if (ts.isImportDeclaration(node)) {
        const clause = node.importClause;
        const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
        typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      } else typeOnly = node.isTypeOnly;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false });
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = sources(SRC);
const rel = (f: string): string => relative(SRC, f).split('\\').join('/');
const local = (from: string, specifier: string): string => resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));

describe('CLI sources', () => {
  it('have no import cycle, counting type-only and dynamic imports', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => i.specifier.startsWith('.')).map((i) => local(f, i.specifier))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const walk = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const next of graph.get(f) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map(rel).join(' → '));
        else if (!state.has(next)) walk(next);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) walk(f);
    expect(cycles).toEqual([]);
    // The check sees the imports it must: every command file imports the shared context.
    for (const group of ['auth', 'forensic', 'telemetry']) expect(graph.get(join(SRC, 'commands', `${group}.ts`))).toContain(join(SRC, 'context.ts'));
  });

  it('register one command group per file under commands/', () => {
    const { program } = createProgram({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: SRC });
    const groups = program.commands.map((c) => c.name()).sort();
    expect(groups).toEqual(expect.arrayContaining(['auth', 'forensic', 'slo', 'telemetry']));
    expect(readdirSync(join(SRC, 'commands')).sort()).toEqual(groups.map((g) => `${g}.ts`));
  });

  it('load the heavy libraries only on first use: value imports of them sit in lazily loaded modules', () => {
    const heavy = /^(@stellaops\/forensics|@stellaops\/collector-config|yaml|jose|protobufjs(\/.*)?|@stellaops\/telemetry-core|@opentelemetry\/.*)$/;
    // Modules reached only through a dynamic import() (lazy.ts) may load what they need.
    const lazyOnly = new Set(['otlp-replay.ts']);
    const offenders = files.flatMap((f) =>
      importsOf(f)
        .filter((i) => heavy.test(i.specifier) && !i.typeOnly && !i.dynamic && !lazyOnly.has(rel(f)))
        .map((i) => `${rel(f)} imports ${i.specifier}`),
    );
    expect(offenders).toEqual([]);
    // The tenant-id rule, the scope grammar and the sealed-mode egress guard (with the policy file its allowlist
    // comes from) come from telemetry-core's dependency-free subpaths, never its main entry.
    const subpaths = files.flatMap((f) => importsOf(f).filter((i) => i.specifier.startsWith('@stellaops/telemetry-core')).map((i) => i.specifier));
    expect(new Set(subpaths)).toEqual(
      new Set(['@stellaops/telemetry-core/tenant-id', '@stellaops/telemetry-core/scopes', '@stellaops/telemetry-core/egress', '@stellaops/telemetry-core/policy']),
    );
    // The policy file format (it loads yaml) only on a sealed host that names one, and only for a replay.
    const policyImports = files.filter((f) => importsOf(f).some((i) => i.specifier === '@stellaops/telemetry-core/policy'));
    expect(policyImports.map(rel)).toEqual(['replay-egress.ts']);
    expect(importsOf(join(SRC, 'replay-egress.ts')).find((i) => i.specifier === '@stellaops/telemetry-core/policy')?.dynamic).toBe(true);
    // …and no module reaches otlp-replay.ts except through lazy.ts's import().
    const staticReplay = files.filter((f) => importsOf(f).some((i) => !i.dynamic && !i.typeOnly && i.specifier.endsWith('otlp-replay.js')));
    expect(staticReplay.map(rel)).toEqual([]);
  });

  it('keep the tenant-id rule in one place: no tenant pattern of their own', () => {
    const copies = files.filter((f) => readFileSync(f, 'utf8').includes('[A-Za-z0-9_-]{0,63}')).map(rel);
    expect(copies).toEqual([]);
  });
});
