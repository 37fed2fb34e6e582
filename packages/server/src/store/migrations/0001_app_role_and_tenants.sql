-- The application role. The service runs every query as this role (directly, or through
-- SET LOCAL ROLE when it connects as the owner), so row-level security always applies.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {{app_role_literal}}) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS', {{app_role_literal}});
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO {{app_role}};

-- Tenants the service has seen. Tenant ids only, no tenant data: the retention job
-- enumerates tenants here and then works inside each tenant's own transaction.
CREATE TABLE tenants (
  tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
  first_seen_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_listed ON tenants FOR SELECT USING (true);
CREATE POLICY tenants_register_own ON tenants FOR INSERT
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT ON tenants TO {{app_role}};

-- Per-tenant settings (retention); each tenant sees and changes only its own row.
CREATE TABLE tenant_settings (
  tenant_id text PRIMARY KEY,
  timeline_retention_days integer NOT NULL CHECK (timeline_retention_days BETWEEN 1 AND 3650),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text
);
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON tenant_settings TO {{app_role}};
