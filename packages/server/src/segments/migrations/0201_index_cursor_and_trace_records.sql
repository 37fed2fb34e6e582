-- STO-5: the index is derived from the segments. `telemetry_trace_records` says which stored
-- records hold a trace (one row per trace per record, not per span); `telemetry_spans` keeps
-- only ingress and root spans (what rates, errors, latency and health are computed from);
-- `telemetry_index_cursor` records, per segment, how far the index has been derived, in the
-- same transaction as the rows, so after a crash indexing resumes exactly where it stopped.
CREATE TABLE telemetry_trace_records (
  tenant_id text NOT NULL,
  trace_id text NOT NULL,
  segment text NOT NULL,
  record_offset bigint NOT NULL
);
CREATE INDEX telemetry_trace_records_trace ON telemetry_trace_records (tenant_id, trace_id);
CREATE INDEX telemetry_trace_records_segment ON telemetry_trace_records (tenant_id, segment);
ALTER TABLE telemetry_trace_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_trace_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_trace_records
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON telemetry_trace_records TO {{app_role}};

-- Segments indexed before cursors existed have none: the service re-derives their rows from
-- the segments at start (deleting the old per-span rows first).
CREATE TABLE telemetry_index_cursor (
  tenant_id text NOT NULL,
  segment text NOT NULL,
  -- byte offset in the segment file up to which every record is indexed (or quarantined)
  indexed_to bigint NOT NULL,
  PRIMARY KEY (tenant_id, segment)
);
ALTER TABLE telemetry_index_cursor ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_index_cursor FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_index_cursor
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON telemetry_index_cursor TO {{app_role}};

CREATE INDEX telemetry_spans_segment ON telemetry_spans (tenant_id, segment);
CREATE INDEX telemetry_logs_segment ON telemetry_logs (tenant_id, segment);
