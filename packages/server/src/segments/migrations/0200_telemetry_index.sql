-- SPEC STO-2: the derived index over the raw segments. Rows point back at the record they came
-- from (segment + byte offset); dropping and rebuilding them from the segments loses nothing.
-- Append-only for the application role (insert, read, delete for retention).
CREATE TABLE telemetry_spans (
  tenant_id text NOT NULL,
  trace_id text NOT NULL,
  span_id text NOT NULL,
  parent_span_id text,
  service text NOT NULL,
  name text NOT NULL,
  kind smallint NOT NULL,
  start_ms bigint NOT NULL,
  duration_ms double precision NOT NULL,
  status_code smallint NOT NULL,
  route text,
  segment text NOT NULL,
  record_offset bigint NOT NULL
);
CREATE INDEX telemetry_spans_trace ON telemetry_spans (tenant_id, trace_id);
CREATE INDEX telemetry_spans_time ON telemetry_spans (tenant_id, start_ms);
ALTER TABLE telemetry_spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_spans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_spans
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON telemetry_spans TO {{app_role}};

CREATE TABLE telemetry_logs (
  tenant_id text NOT NULL,
  ts_ms bigint NOT NULL,
  severity smallint NOT NULL,
  severity_text text,
  service text NOT NULL,
  trace_id text,
  span_id text,
  body text NOT NULL,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  segment text NOT NULL,
  record_offset bigint NOT NULL
);
CREATE INDEX telemetry_logs_time ON telemetry_logs (tenant_id, ts_ms DESC);
CREATE INDEX telemetry_logs_trace ON telemetry_logs (tenant_id, trace_id) WHERE trace_id IS NOT NULL;
ALTER TABLE telemetry_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_logs
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON telemetry_logs TO {{app_role}};

-- STO-4: a tenant's own retention per signal (absent: the service default).
CREATE TABLE telemetry_retention (
  tenant_id text NOT NULL,
  signal text NOT NULL CHECK (signal IN ('traces', 'metrics', 'logs')),
  days integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
  PRIMARY KEY (tenant_id, signal)
);
ALTER TABLE telemetry_retention ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_retention FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_retention
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON telemetry_retention TO {{app_role}};

-- Time ranges pruning must not touch (incident windows plus margin, INC-2).
CREATE TABLE telemetry_retention_holds (
  tenant_id text NOT NULL,
  hold_id text NOT NULL,
  from_ms bigint NOT NULL,
  to_ms bigint NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (tenant_id, hold_id)
);
ALTER TABLE telemetry_retention_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_retention_holds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_retention_holds
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON telemetry_retention_holds TO {{app_role}};
