-- STO-4 / EVI-5: the retention jobs' memory (src/retention/refusal-audit.ts). Per tenant and
-- target (timeline, evidence, and each telemetry signal) the cut-off and time of the last
-- pruning pass and what it found kept, so a pass audits only what came due since the previous
-- one, or a change in what the holds keep: every refused deletion is audited once, in one
-- summary event per pass, instead of once per row and hour.
CREATE TABLE retention_passes (
  tenant_id text NOT NULL,
  target text NOT NULL CHECK (target IN ('timeline', 'evidence', 'traces', 'logs', 'metrics')),
  last_cutoff timestamptz NOT NULL,
  last_run_at timestamptz NOT NULL,
  -- what the last audited pass found kept past the cut-off, by reason ({"legal_hold": 2, ...})
  last_kept jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (tenant_id, target)
);
ALTER TABLE retention_passes ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_passes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_passes
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON retention_passes TO {{app_role}};
