-- Saved GET /timeline filters (the Console's Forensics Explorer), per tenant and user (the
-- token's subject), by name. `query` holds the filter's parameters as GET /timeline takes them
-- (strings only), checked by the API with the same rules before they are stored. Each user
-- reads and changes only their own (the API names the subject); row-level security keeps
-- every tenant to its own rows like any tenant table.
CREATE TABLE timeline_saved_filters (
  tenant_id text NOT NULL,
  subject text NOT NULL,
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]([A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$'),
  query jsonb NOT NULL CHECK (jsonb_typeof(query) = 'object'),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject, name)
);
ALTER TABLE timeline_saved_filters ENABLE ROW LEVEL SECURITY;
ALTER TABLE timeline_saved_filters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON timeline_saved_filters
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON timeline_saved_filters TO {{app_role}};
