-- Evidence locker (SPEC EVI-1..7): what evidence_bundles (core 0003) needs beyond TL-3, the
-- commit journal, uploaded artifacts, legal holds, per-tenant retention and decision records.
-- Every table is tenant-scoped under row-level security like the core ones.

ALTER TABLE evidence_bundles
  ADD COLUMN resource_type text,
  ADD COLUMN resource_id text,
  ADD COLUMN manifest_digest text,
  ADD COLUMN file_count integer,
  ADD COLUMN content_bytes bigint,
  ADD COLUMN retain_until timestamptz,
  ADD COLUMN timestamped boolean NOT NULL DEFAULT false;
CREATE INDEX evidence_bundles_tenant_resource ON evidence_bundles (tenant_id, resource_type, resource_id);

-- Write-ahead intent of a bundle commit: inserted before the objects are written, removed when
-- the bundle row is recorded. A row left behind names an interrupted commit for recovery.
CREATE TABLE evidence_commits (
  tenant_id text NOT NULL,
  bundle_id text NOT NULL,
  case_id text NOT NULL,
  path text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, bundle_id)
);
ALTER TABLE evidence_commits ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_commits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_commits
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON evidence_commits TO {{app_role}};

-- Inputs services attach to a resource before a snapshot (POST /evidence/artifacts); the bytes
-- are content-addressed in the object store. Immutable: never updated.
CREATE TABLE evidence_artifacts (
  tenant_id text NOT NULL,
  id text NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  role text NOT NULL,
  name text NOT NULL,
  media_type text NOT NULL,
  sha256 text NOT NULL,
  size bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, resource_type, resource_id, role, name)
);
ALTER TABLE evidence_artifacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_artifacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_artifacts
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT ON evidence_artifacts TO {{app_role}};

-- Active legal holds by case; the history of placing and releasing lives in the audit timeline.
CREATE TABLE evidence_holds (
  tenant_id text NOT NULL,
  case_id text NOT NULL,
  reason text NOT NULL,
  placed_by text,
  placed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, case_id)
);
ALTER TABLE evidence_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_holds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_holds
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence_holds TO {{app_role}};

-- Per-tenant evidence retention; `extended_until` is set by incident mode (nothing expires before it).
CREATE TABLE evidence_settings (
  tenant_id text PRIMARY KEY,
  retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 36500),
  extended_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text
);
ALTER TABLE evidence_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_settings
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON evidence_settings TO {{app_role}};

-- Decision records (telemetry-core logDecision) kept for snapshots' decision traces.
CREATE TABLE evidence_decisions (
  tenant_id text NOT NULL,
  id text NOT NULL,
  ts timestamptz NOT NULL,
  kind text NOT NULL,
  trace_id text,
  resource text,
  record jsonb NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX evidence_decisions_tenant_trace ON evidence_decisions (tenant_id, trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX evidence_decisions_tenant_resource ON evidence_decisions (tenant_id, resource) WHERE resource IS NOT NULL;
ALTER TABLE evidence_decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_decisions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_decisions
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON evidence_decisions TO {{app_role}};
