-- SPEC TL-3: the records the evidence locker and attestations write; the timeline links to them.
CREATE TABLE evidence_bundles (
  tenant_id text NOT NULL,
  id text NOT NULL,
  case_id text,
  kind text NOT NULL,
  root_hash text NOT NULL,
  path text NOT NULL,
  signer_key_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX evidence_bundles_tenant_case ON evidence_bundles (tenant_id, case_id);
CREATE INDEX evidence_bundles_tenant_created ON evidence_bundles (tenant_id, created_at DESC);
CREATE INDEX evidence_bundles_labels ON evidence_bundles USING gin (labels jsonb_path_ops);
ALTER TABLE evidence_bundles ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_bundles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_bundles
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence_bundles TO {{app_role}};

CREATE TABLE attestations (
  tenant_id text NOT NULL,
  id text NOT NULL,
  subject_id text NOT NULL,
  subject_digest text NOT NULL,
  statement_path text NOT NULL,
  signer_key_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX attestations_tenant_subject ON attestations (tenant_id, subject_id);
ALTER TABLE attestations ENABLE ROW LEVEL SECURITY;
ALTER TABLE attestations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON attestations
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON attestations TO {{app_role}};
