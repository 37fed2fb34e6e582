-- CORE-2/AUTH-4: per-tenant deep-debug grants (e-mail and path redaction relaxed for one tenant
-- until expires_at). One grant in force per tenant; ended rows stay as the record of who
-- relaxed redaction, why, until when and how it ended ('off', 'ttl', or 'replaced' by a new
-- grant). State lives here; the bus only broadcasts it to the processes that apply it.
CREATE TABLE deep_debug_grants (
  tenant_id text NOT NULL,
  grant_id uuid NOT NULL,
  actor text NOT NULL,
  reason text NOT NULL,
  enabled_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text CHECK (end_reason IN ('off', 'ttl', 'replaced')),
  ended_by text,
  off_reason text,
  PRIMARY KEY (tenant_id, grant_id),
  CHECK (expires_at > enabled_at)
);
CREATE UNIQUE INDEX deep_debug_grants_one_active ON deep_debug_grants (tenant_id) WHERE ended_at IS NULL;
CREATE INDEX deep_debug_grants_recent ON deep_debug_grants (tenant_id, enabled_at DESC);
ALTER TABLE deep_debug_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE deep_debug_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON deep_debug_grants
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON deep_debug_grants TO {{app_role}};
