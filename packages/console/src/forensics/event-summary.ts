/**
 * How a timeline event reads in a list: a short summary of its details, its resource, and
 * whether it is something red — a failed job or a denied decision — that "Why is this red?"
 * can explain. Pure: no DOM.
 */
import type { TimelineEvent } from './timeline-types.js';

/** Details keys that say the most, first in a summary. */
const FIRST_KEYS = ['error_code', 'error_message', 'reason', 'verdict', 'effect', 'decision_effect', 'decisions', 'type', 'feed', 'policy_version', 'evaluation_id', 'sbom_id', 'target'];

/** Digests and other content hashes: on the event page, not in a one-line summary. */
const isDigestKey = (key: string): boolean => /(^|_)digests?$/.test(key) || key === 'root_hash';

const DEFAULT_LENGTH = 160;

function scalar(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** One details entry as a phrase, or undefined when it is left out. */
function phrase(key: string, value: unknown): string | undefined {
  if (isDigestKey(key) || value === undefined) return undefined;
  const text = scalar(value);
  if (text !== undefined) {
    if (key === 'error_code') return text;
    if (key === 'error_message' || key === 'reason') return text;
    return `${key} ${text}`;
  }
  if (Array.isArray(value)) {
    const items = value.map(scalar).filter((v): v is string => v !== undefined);
    if (items.length === 0) return `${key} [${value.length}]`;
    const shown = items.slice(0, 3).join(', ');
    return `${key} ${shown}${value.length > 3 ? ` +${value.length - 3}` : ''}`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !isDigestKey(k));
    const scalars = entries.map(([k, v]) => [k, scalar(v)] as const).filter((e): e is readonly [string, string] => e[1] !== undefined);
    if (key === 'custody') {
      const step = (value as Record<string, unknown>)['step'];
      return typeof step === 'string' ? `custody step ${step}` : undefined;
    }
    if (scalars.length > 0 && scalars.length === entries.length && scalars.length <= 4) return `${key} ${scalars.map(([k, v]) => `${k} ${v}`).join(', ')}`;
    return `${key} {${entries.length} ${entries.length === 1 ? 'field' : 'fields'}}`;
  }
  return undefined;
}

/** The details in one line: the telling keys first, digests left out, cut at `maxLength` with an ellipsis. */
export function summariseDetails(details: Record<string, unknown> | null | undefined, maxLength = DEFAULT_LENGTH): string {
  if (!details) return '';
  const keys = Object.keys(details);
  const ordered = [...FIRST_KEYS.filter((k) => keys.includes(k)), ...keys.filter((k) => !FIRST_KEYS.includes(k))];
  const parts: string[] = [];
  for (const key of ordered) {
    const p = phrase(key, details[key]);
    if (p !== undefined && p !== '') parts.push(p);
  }
  const line = parts.join(' · ').replace(/\s+/g, ' ');
  return line.length > maxLength ? `${line.slice(0, maxLength - 1).trimEnd()}…` : line;
}

/** `type/id`, or the one that is there, or ''. */
export function resourceOf(event: Pick<TimelineEvent, 'resource_type' | 'resource_id'>): string {
  if (event.resource_type && event.resource_id) return `${event.resource_type}/${event.resource_id}`;
  return event.resource_id ?? event.resource_type ?? '';
}

const isDeny = (value: unknown): boolean => typeof value === 'string' && value.toLowerCase() === 'deny';

/** A decision that denied: its details say `effect`, `verdict` or `decision_effect` deny. */
export function isDeniedDecision(event: Pick<TimelineEvent, 'details'>): boolean {
  const d = event.details ?? {};
  return isDeny(d['effect']) || isDeny(d['verdict']) || isDeny(d['decision_effect']);
}

export function isJobFailure(event: Pick<TimelineEvent, 'kind'>): boolean {
  return event.kind === 'job.failed';
}

/** Why "Why is this red?" can explain the event: a failed job or a denied decision; undefined for other events. */
export function redReason(event: Pick<TimelineEvent, 'kind' | 'details'>): 'job failed' | 'denied' | undefined {
  if (isJobFailure(event)) return 'job failed';
  if (isDeniedDecision(event)) return 'denied';
  return undefined;
}
