-- OBS-2: ingested OTLP metrics, indexed from the segments like spans and logs, as the series
-- and samples Prometheus would hold for them (segments/metric-rows.ts names them the way the
-- OpenTelemetry-to-Prometheus conversion does), so `/obs/metrics` and the SLO evaluator ask the
-- embedded store the same questions they ask Prometheus at scale.
--
-- A series is its sample name and labels (`series_id` is a hash of both); a histogram is its
-- `_bucket{le}`, `_count` and `_sum` series. Series rows are shared by every segment that has
-- samples of them; sample rows point back at the record they came from (segment + offset) and
-- are removed with the segment's other index rows.
CREATE TABLE telemetry_metric_series (
  tenant_id text NOT NULL,
  series_id text NOT NULL,
  -- the sample name: `http_server_request_duration_seconds_bucket`, `..._total`, a gauge's name
  name text NOT NULL,
  -- the metric family `/obs/metrics?name=` also answers to (`http_server_request_duration_seconds`)
  family text NOT NULL,
  family_type text NOT NULL CHECK (family_type IN ('counter', 'gauge', 'histogram')),
  -- delta temporality: each sample is the increase since the previous one, not a running total
  delta boolean NOT NULL,
  unit text NOT NULL,
  labels jsonb NOT NULL,
  PRIMARY KEY (tenant_id, series_id)
);
CREATE INDEX telemetry_metric_series_name ON telemetry_metric_series (tenant_id, name);
CREATE INDEX telemetry_metric_series_family ON telemetry_metric_series (tenant_id, family);
ALTER TABLE telemetry_metric_series ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_metric_series FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_metric_series
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON telemetry_metric_series TO {{app_role}};

CREATE TABLE telemetry_metric_points (
  tenant_id text NOT NULL,
  series_id text NOT NULL,
  ts_ms bigint NOT NULL,
  value double precision NOT NULL,
  segment text NOT NULL,
  record_offset bigint NOT NULL
);
CREATE INDEX telemetry_metric_points_series ON telemetry_metric_points (tenant_id, series_id, ts_ms);
CREATE INDEX telemetry_metric_points_segment ON telemetry_metric_points (tenant_id, segment);
ALTER TABLE telemetry_metric_points ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry_metric_points FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telemetry_metric_points
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON telemetry_metric_points TO {{app_role}};
