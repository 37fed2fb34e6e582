-- STO-4 retention tiers per tenant and signal (src/retention/policy.ts holds the floors and
-- ceilings, the API enforces them): hot = days the SQL index rows are kept (searchable),
-- warm = days the raw segments are kept, cold = 0 or the age up to which raw segments are kept
-- past warm. A signal without a row uses the service defaults. This replaces
-- `telemetry_retention` (0200: one number of days per signal), which nothing reads any more.
CREATE TABLE telemetry_retention_tiers (
  tenant_id text NOT NULL,
  signal text NOT NULL CHECK (signal IN ('traces', 'metrics', 'logs')),
  hot_days integer NOT NULL CHECK (hot_days BETWEEN 1 AND 3650),
  warm_days integer NOT NULL CHECK (warm_days BETWEEN 1 AND 3650),
  cold_days integer NOT NULL CHECK (cold_days BETWEEN 0 AND 3650),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text,
  PRIMARY KEY (tenant_id, signal)
);
ALTER TABLE telemetry_retention_tiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_retention_tiers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_retention_tiers
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON telemetry_retention_tiers TO {{app_role}};

-- When the hot tier ended for a segment: its index rows were removed (the raw segment stays for
-- its warm and cold tiers). The cursor row stays, so recovery does not index the segment again;
-- an on-demand reindex drops the cursors and derives the rows anew, and the next pass trims them.
ALTER TABLE telemetry_index_cursor ADD COLUMN hot_trimmed_at timestamptz;
