-- SPEC TL-1/TL-3. Append-only: the application role may insert, read and (for retention)
-- delete, never update.
CREATE TABLE timeline_events (
  tenant_id text NOT NULL,
  event_id uuid NOT NULL,
  ts timestamptz NOT NULL,
  project_id text,
  kind text NOT NULL,
  actor text,
  resource_type text,
  resource_id text,
  trace_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  digest text NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
-- Newest-first pages of a tenant's timeline; event_id breaks ties for the cursor.
CREATE INDEX timeline_events_tenant_ts ON timeline_events (tenant_id, ts DESC, event_id DESC);
CREATE INDEX timeline_events_tenant_resource ON timeline_events (tenant_id, resource_type, resource_id, ts DESC);
CREATE INDEX timeline_events_tenant_trace ON timeline_events (tenant_id, trace_id) WHERE trace_id IS NOT NULL;

ALTER TABLE timeline_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE timeline_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON timeline_events
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON timeline_events TO {{app_role}};
