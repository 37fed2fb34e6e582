/**
 * OSV 1.6 advisories (https://ossf.github.io/osv-schema/), validated strictly enough that a
 * range which cannot be evaluated is refused with the field named — advisories are stored as
 * seen (AOC), so a bad one must be rejected whole, never "repaired".
 */
import { WorkloadError } from './errors.js';
import { parseSemVer, type RangeEvent } from '../fixtures/semver.js';

export interface OsvAffected {
  package: { ecosystem: string; name: string; purl?: string };
  ranges?: { type: 'SEMVER' | 'ECOSYSTEM' | 'GIT'; events: RangeEvent[] }[];
  versions?: string[];
}

export interface OsvAdvisory {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: { type: string; score: string }[];
  affected: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: { severity?: string; [k: string]: unknown };
}

export type Severity = 'CRITICAL' | 'HIGH' | 'MODERATE' | 'LOW';
const SEVERITIES: readonly string[] = ['CRITICAL', 'HIGH', 'MODERATE', 'LOW'];

export function advisorySeverity(a: OsvAdvisory): Severity {
  const s = a.database_specific?.severity;
  return (typeof s === 'string' && SEVERITIES.includes(s) ? s : 'MODERATE') as Severity;
}

/** Throws `advisory.malformed` naming the first field that makes the advisory unusable. */
export function validateOsv(doc: unknown): OsvAdvisory {
  const fail = (field: string, message: string): never => {
    throw new WorkloadError('advisory.malformed', `${field}: ${message}`, { field });
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('advisory', 'must be an OSV JSON object');
  const a = doc as OsvAdvisory;
  if (typeof a.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$/.test(a.id)) fail('id', 'must be an OSV identifier such as STELLA-2026-0001');
  if (typeof a.modified !== 'string' || Number.isNaN(Date.parse(a.modified))) fail('modified', 'must be an RFC 3339 timestamp');
  if (!Array.isArray(a.affected) || a.affected.length === 0) fail('affected', 'must list at least one affected package');
  a.affected.forEach((af, i) => {
    if (!af?.package || typeof af.package.name !== 'string' || typeof af.package.ecosystem !== 'string') {
      fail(`affected[${i}].package`, 'needs ecosystem and name');
    }
    (af.ranges ?? []).forEach((r, j) => {
      if (r.type !== 'SEMVER' && r.type !== 'ECOSYSTEM') fail(`affected[${i}].ranges[${j}].type`, `"${String(r.type)}" ranges cannot be evaluated for packages`);
      if (!Array.isArray(r.events) || r.events.length === 0) fail(`affected[${i}].ranges[${j}].events`, 'must not be empty');
      r.events.forEach((e, k) => {
        for (const key of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
          const v = e[key];
          if (v === undefined) continue;
          if (typeof v !== 'string' || (!(key === 'introduced' && v === '0') && !parseSemVer(v))) {
            fail(`affected[${i}].ranges[${j}].events[${k}].${key}`, `"${String(v)}" is not a SemVer version`);
          }
        }
      });
    });
  });
  return a;
}

/** The fixed version of an affected entry, if the advisory names one. */
export function fixedVersion(af: OsvAffected): string | undefined {
  for (const r of af.ranges ?? []) for (const e of r.events) if (e.fixed) return e.fixed;
  return undefined;
}
