-- SPEC STO-5: records that were acknowledged but cannot be stored where they belong (the
-- telemetry index, the timeline) are kept here per tenant with the reason, never dropped and
-- never allowed to block the records behind them. Inspectable and replayable.
CREATE TABLE ingest_quarantine (
  tenant_id text NOT NULL,
  quarantine_id uuid NOT NULL,
  -- traces | logs | metrics | timeline
  signal text NOT NULL,
  -- a stable code, e.g. index.rejected, timeline.store_rejected
  reason text NOT NULL,
  -- the store's own message, for a person
  error text NOT NULL,
  -- where the record is kept: `segment:<signal>/<hour>@<offset>` or `bus:<subject>#<msg id>`
  source text NOT NULL,
  -- the record itself when no segment keeps it (timeline messages), as received
  payload bytea,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  PRIMARY KEY (tenant_id, quarantine_id)
);
CREATE INDEX ingest_quarantine_time ON ingest_quarantine (tenant_id, quarantined_at DESC);
ALTER TABLE ingest_quarantine ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest_quarantine FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ingest_quarantine
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON ingest_quarantine TO {{app_role}};
