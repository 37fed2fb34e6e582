-- SPEC INC-1/INC-2: incident mode per tenant, optionally per service (service '' = every
-- service of the tenant). One active row per scope; ended rows stay as the record of the
-- incident (who, why, when, the captures taken). State lives here; the bus only broadcasts it.
CREATE TABLE incident_modes (
  tenant_id text NOT NULL,
  incident_id uuid NOT NULL,
  service text NOT NULL DEFAULT '',
  reason text NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('operator', 'slo_burn', 'orchestrator')),
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  started_by text NOT NULL,
  ended_at timestamptz,
  end_reason text CHECK (end_reason IN ('off', 'ttl')),
  ended_by text,
  start_capture jsonb,
  stop_capture jsonb,
  PRIMARY KEY (tenant_id, incident_id)
);
CREATE UNIQUE INDEX incident_modes_one_active ON incident_modes (tenant_id, service) WHERE ended_at IS NULL;
CREATE INDEX incident_modes_expiry ON incident_modes (tenant_id, expires_at) WHERE ended_at IS NULL;
ALTER TABLE incident_modes ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_modes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_modes
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON incident_modes TO {{app_role}};
