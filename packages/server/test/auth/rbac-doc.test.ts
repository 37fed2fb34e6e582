/**
 * docs/rbac.md is the scope catalogue in prose: its matrix has one row per route of
 * ROUTE_ACCESS, in the catalogue's order, naming exactly the route's scopes (or "public", or
 * "any valid token"), its tenancy and whether it is audited; the page lists no route the
 * service lacks, and its scope table lists exactly the scopes the service understands.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACCESS, SCOPE_VOCABULARY, type RouteAccess } from '../../src/auth/scope-catalogue.js';

const page = readFileSync(new URL('../../../../docs/rbac.md', import.meta.url), 'utf8');
const ROUTE_ROW = /^\| `((?:GET|POST|PUT|DELETE|PATCH) \/[^`]*)` \|([^\n]*)$/gm;
const matrix = [...page.matchAll(ROUTE_ROW)].map((m) => ({ route: m[1]!, cells: m[2]!.split(' | ').map((c) => c.replace(/\|\s*$/, '').trim()) }));
const rows = new Map(matrix.map((r) => [r.route, r.cells]));

const scopesOf = (cell: string): string[] => [...cell.matchAll(/`(stella:[a-z]+:[a-z]+)`/g)].map((m) => m[1]!);

function expectedCells(access: RouteAccess): { scopes: string; tenancy: string; audited: boolean } {
  switch (access.kind) {
    case 'public':
      return { scopes: 'public', tenancy: 'none', audited: false };
    case 'authenticated':
      return { scopes: 'any valid token', tenancy: 'none: no tenant is selected', audited: false };
    case 'tenant':
      return { scopes: access.anyOf.map((s) => `\`${s}\``).join(', '), tenancy: 'one tenant', audited: access.privileged === true };
    case 'platform':
      return { scopes: access.anyOf.map((s) => `\`${s}\``).join(', '), tenancy: 'every tenant: platform-wide only', audited: false };
  }
}

describe('docs/rbac.md', () => {
  it('has one row per route, in the catalogue order', () => {
    expect(matrix.map((r) => r.route)).toEqual(Object.keys(ROUTE_ACCESS));
  });

  it('names exactly each route\'s scopes, the first being the one a refusal names, or says it is public or open to any valid token', () => {
    const wrong: string[] = [];
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const cells = rows.get(route);
      if (!cells) continue; // the order test names it
      const want = expectedCells(access);
      if (cells[0] !== want.scopes) wrong.push(`${route}: scopes "${cells[0]}", expected "${want.scopes}"`);
      if (access.kind === 'tenant' || access.kind === 'platform') expect(scopesOf(cells[0]!), route).toEqual([...access.anyOf]);
    }
    expect(wrong).toEqual([]);
  });

  it('states each route\'s tenancy and whether it is audited, with the audit event kinds of privileged routes', () => {
    const wrong: string[] = [];
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const cells = rows.get(route);
      if (!cells) continue;
      const want = expectedCells(access);
      if (cells[1] !== want.tenancy) wrong.push(`${route}: tenancy "${cells[1]}", expected "${want.tenancy}"`);
      const audited = cells[2] ?? '';
      if (want.audited ? !/^yes: .*`audit\.[a-z_.]+`/.test(audited) : audited !== 'no') wrong.push(`${route}: audited "${audited}", expected ${want.audited ? 'yes: with its audit.* kinds' : 'no'}`);
    }
    expect(wrong).toEqual([]);
  });

  it('names only audit event kinds the service writes', () => {
    const named = new Set([...page.matchAll(/`(audit\.[a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(10);
    let code = '';
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.ts')) code += readFileSync(p, 'utf8');
      }
    };
    walk(fileURLToPath(new URL('../../src/', import.meta.url)));
    const unknown = [...named].filter((kind) => {
      if (code.includes(`'${kind}'`)) return false;
      // audit.deep_debug.<on|off|expired> is built from the name of its change.
      return !(/^audit\.deep_debug\.[a-z]+$/.test(kind) && code.includes('`audit.deep_debug.${kind}`'));
    });
    expect(unknown).toEqual([]);
  });

  it('lists exactly the scopes the service understands', () => {
    const section = page.slice(page.indexOf('\n## Scopes\n'), page.indexOf('\n## Scope × endpoint\n'));
    const listed = [...section.matchAll(/^\| `(stella:[a-z]+:[a-z]+)` \|/gm)].map((m) => m[1]!);
    expect([...listed].sort()).toEqual(Object.keys(SCOPE_VOCABULARY).sort());
  });
});
