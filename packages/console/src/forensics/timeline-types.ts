/** The answers of the timeline API the Forensics Explorer reads (schemas in /openapi.json, tag `timeline`). */

/** One timeline event (TL-1), as `GET /timeline` and `GET /timeline/:event_id` give it. */
export interface TimelineEvent {
  event_id: string;
  ts: string;
  tenant_id: string;
  project_id: string | null;
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown>;
  digest: string;
  ingested_at?: string;
}

/** `GET /timeline`: one page, newest first. */
export interface TimelinePageAnswer {
  events: TimelineEvent[];
  next_cursor: string | null;
  window: { from: string; to: string };
}

/** `GET /timeline/:event_id`: the event and where it leads. */
export interface EventDetailAnswer {
  event: TimelineEvent;
  links: {
    /** The API path `/obs/trace/<trace_id>`, or null without a trace. */
    trace: string | null;
    evidence: { href: string; bundle_id: string; kind: string; case_id: string | null; root_hash: string }[];
    /** The API path `/attestations?subject_id=<resource_id>`, or null without a resource. */
    attestations: string | null;
  };
}

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
