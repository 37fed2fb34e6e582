/** The answers of the timeline API the Forensics Explorer reads (schemas in /openapi.json, tag `timeline`). */

export type { EventDetailAnswer, TimelineEvent, TimelinePageAnswer } from '../api/api-types.js';
import type { TimelineEvent } from '../api/api-types.js';

/** `GET /timeline/:event_id/context`: the event and its neighbours, oldest first. */
export interface EventContextAnswer {
  event: TimelineEvent;
  before: TimelineEvent[];
  after: TimelineEvent[];
}

/** What a saved filter keeps: strings only; `window` is minutes. */
export interface SavedQuery {
  kind?: string;
  resource_type?: string;
  resource_id?: string;
  project?: string;
  actor?: string;
  touches?: string;
  trace_id?: string;
  window?: string;
}

/** `GET /timeline/filters`: the signed-in user's saved filters on the selected tenant. */
export interface SavedFiltersAnswer {
  filters: { name: string; query: SavedQuery; created_at: string; updated_at: string }[];
}

/** `GET /attestations?subject_id=…` (the fields the event page shows). */
export interface AttestationsAnswer {
  attestations: { id: string; subject_id: string; predicate_type: string | null; signer_key_id: string | null; created_at: string; status: 'verified' | 'failed' }[];
}
