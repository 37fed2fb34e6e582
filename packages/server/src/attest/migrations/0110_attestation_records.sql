-- Attestations (SPEC ATT-2, ATT-3): what the attestations table (core 0003) needs beyond TL-3.
ALTER TABLE attestations
  ADD COLUMN predicate_type text,
  ADD COLUMN envelope_digest text,
  ADD COLUMN resource_type text,
  ADD COLUMN resource_id text,
  ADD COLUMN bundle_id text,
  ADD COLUMN signed_at timestamptz,
  ADD COLUMN origin text NOT NULL DEFAULT 'submitted' CHECK (origin IN ('submitted', 'signed'));
CREATE INDEX attestations_tenant_resource ON attestations (tenant_id, resource_type, resource_id);
