-- SPEC FED-1..4: consent proofs and the aggregate bundles exported under them, as the signed
-- DSSE envelopes that left (or may leave) the installation. Both are immutable: a consent is
-- recorded once (its expiry is part of what was signed), a bundle once per id (its id derives
-- from its content). Creating either is audited on the tenant's timeline.
CREATE TABLE federation_consents (
  tenant_id text NOT NULL,
  consent_id text NOT NULL,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  purpose text NOT NULL,
  -- sha256:<hex> of the envelope's canonical JSON: what bundles name as consentDigest
  digest text NOT NULL,
  -- the key that signed it; null for an unsigned (offline-unsigned-fallback) envelope
  signer_key_id text,
  -- the envelope, canonical JSON
  envelope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, consent_id),
  CHECK (expires_at > granted_at)
);
CREATE INDEX federation_consents_created ON federation_consents (tenant_id, created_at DESC);
ALTER TABLE federation_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE federation_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON federation_consents
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT ON federation_consents TO {{app_role}};

CREATE TABLE federation_bundles (
  tenant_id text NOT NULL,
  -- sha256:<hex> derived from the canonical payload
  bundle_id text NOT NULL,
  consent_id text NOT NULL,
  consent_digest text NOT NULL,
  created_at timestamptz NOT NULL,
  -- the window of findings it aggregates, [window_from, window_to)
  window_from timestamptz NOT NULL,
  window_to timestamptz NOT NULL,
  -- k of the k-anonymity rule it was built with, and what it left out
  min_artifacts integer NOT NULL,
  buckets integer NOT NULL,
  suppressed integer NOT NULL,
  digest text NOT NULL,
  signer_key_id text,
  envelope text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, bundle_id)
);
CREATE INDEX federation_bundles_recorded ON federation_bundles (tenant_id, recorded_at DESC);
ALTER TABLE federation_bundles ENABLE ROW LEVEL SECURITY;
ALTER TABLE federation_bundles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON federation_bundles
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT ON federation_bundles TO {{app_role}};
