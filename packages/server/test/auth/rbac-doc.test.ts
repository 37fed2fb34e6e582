/**
 * docs/rbac.md is the scope catalogue in prose: every route of ROUTE_ACCESS has its row, naming
 * the scope a refusal names (or "public", or "any valid token"), and the page lists no route the
 * service lacks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../src/auth/scope-catalogue.js';

const page = readFileSync(new URL('../../../../docs/rbac.md', import.meta.url), 'utf8');
const rows = new Map(
  [...page.matchAll(/^\| `((?:GET|POST|PUT|DELETE|PATCH) \/[^`]*)` \|([^\n]*)$/gm)].map((m) => [m[1]!, m[2]!]),
);

describe('docs/rbac.md', () => {
  it('has a row for every route, naming its first scope or saying it is public or open to any valid token', () => {
    const missing: string[] = [];
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const row = rows.get(route);
      const names = access.kind === 'public' ? 'public' : access.kind === 'authenticated' ? 'any valid token' : access.anyOf[0];
      if (!row) missing.push(`${route}: no row`);
      else if (!row.includes(names)) missing.push(`${route}: the row does not name ${names}`);
    }
    expect(missing).toEqual([]);
  });

  it('lists no route the service does not have', () => {
    expect([...rows.keys()].filter((r) => !(r in ROUTE_ACCESS))).toEqual([]);
  });
});
