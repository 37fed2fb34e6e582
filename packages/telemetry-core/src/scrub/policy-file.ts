/**
 * Policy files: `{ version: 1, allowKeys: [...], redactKeys: [...], repoRoot?, maxStringLength? }`
 * as YAML or JSON (chosen by extension; anything else is read as YAML, a superset of JSON).
 * The keyed-hash key is deliberately not a file field: it is a secret and comes from the caller.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ScrubError } from './errors.js';
import { compileScrubPolicy, type ScrubPolicy } from './policy.js';

/** The policy shipped with the library (its allowlist equals `DEFAULT_ALLOW_KEYS`). */
export const DEFAULT_SCRUB_POLICY_FILE = fileURLToPath(new URL('../../policy/scrub-policy.default.yaml', import.meta.url));

const FIELDS = new Set(['version', 'allowKeys', 'redactKeys', 'repoRoot', 'maxStringLength']);

function invalid(file: string, detail: string): ScrubError {
  return new ScrubError('SCRUB_POLICY_INVALID', `scrub policy ${file}: ${detail}`);
}

/** Reads, parses and validates a policy file. Throws ScrubError with a SCRUB_POLICY_* code. */
export function loadScrubPolicy(file: string): ScrubPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ScrubError('SCRUB_POLICY_NOT_FOUND', `scrub policy ${file}: file not found`, { cause: err });
    }
    throw new ScrubError('SCRUB_POLICY_UNREADABLE', `scrub policy ${file}: cannot read (${code ?? 'error'})`, {
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScrubError(
      'SCRUB_POLICY_PARSE_FAILED',
      `scrub policy ${file}: not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw invalid(file, 'expected a mapping with "version: 1"');
  }
  const record = doc as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FIELDS.has(key)) {
      throw invalid(file, `unknown field "${key}" (allowed: ${[...FIELDS].join(', ')})`);
    }
  }
  if (record.version !== 1) {
    throw invalid(file, `"version" must be 1 (got ${JSON.stringify(record.version) ?? 'nothing'})`);
  }
  const policy: ScrubPolicy = {};
  for (const field of ['allowKeys', 'redactKeys'] as const) {
    const list = record[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.trim() !== '')) {
      throw invalid(file, `"${field}" must be a list of non-empty strings`);
    }
    policy[field] = list.map((v: string) => v.trim());
  }
  if (record.repoRoot !== undefined) {
    if (typeof record.repoRoot !== 'string' || record.repoRoot.trim() === '') {
      throw invalid(file, '"repoRoot" must be a non-empty string');
    }
    policy.repoRoot = record.repoRoot;
  }
  if (record.maxStringLength !== undefined) {
    if (typeof record.maxStringLength !== 'number') throw invalid(file, '"maxStringLength" must be a number');
    policy.maxStringLength = record.maxStringLength;
  }
  try {
    compileScrubPolicy(policy); // the same checks the logger will apply, reported against the file
  } catch (err) {
    throw invalid(file, (err as Error).message.replace(/^scrub policy:\s*/, ''));
  }
  return policy;
}
