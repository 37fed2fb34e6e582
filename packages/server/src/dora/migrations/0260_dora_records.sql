-- SPEC DORA-1: deployments and incidents, recorded over the API or from the Release
-- Orchestrator's bus messages. A deployment is immutable once recorded (the same id again with
-- the same content is a no-op, with other content a conflict); an incident is created and then
-- updated as it is acknowledged and resolved. Times are kept to the millisecond, in UTC.
CREATE TABLE dora_deployments (
  tenant_id text NOT NULL,
  deployment_id text NOT NULL,
  service text NOT NULL,
  environment text NOT NULL,
  -- as sent; the outcome report normalises it
  pipeline text NOT NULL,
  commit_time timestamptz NOT NULL,
  deploy_time timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'rollback', 'hotfix', 'failed')),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, deployment_id),
  CHECK (deploy_time >= commit_time)
);
CREATE INDEX dora_deployments_time ON dora_deployments (tenant_id, environment, deploy_time);
CREATE INDEX dora_deployments_tenant_time ON dora_deployments (tenant_id, deploy_time);
ALTER TABLE dora_deployments ENABLE ROW LEVEL SECURITY;
ALTER TABLE dora_deployments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dora_deployments
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT ON dora_deployments TO {{app_role}};

CREATE TABLE dora_incidents (
  tenant_id text NOT NULL,
  incident_id text NOT NULL,
  environment text NOT NULL,
  service text,
  severity text NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
  started_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, incident_id),
  CHECK (acknowledged_at IS NULL OR acknowledged_at >= started_at),
  CHECK (resolved_at IS NULL OR resolved_at >= started_at)
);
CREATE INDEX dora_incidents_time ON dora_incidents (tenant_id, environment, started_at);
CREATE INDEX dora_incidents_tenant_time ON dora_incidents (tenant_id, started_at);
ALTER TABLE dora_incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE dora_incidents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dora_incidents
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON dora_incidents TO {{app_role}};
