-- SPEC SLO-3, INC-3: page-level SLO breaches and what was done about them. A breach is one
-- episode of a firing burn-rate pair (tenant, SLO, long window): it opens once — the unique
-- index over open breaches makes exactly one writer (one replica, or the evaluator and
-- Alertmanager racing on the same breach) act on it — and is resolved when the source that
-- opened it sees it stop. Acting means: the bus event, the webhooks and, above the configured
-- burn rate, incident mode (`incident` records the outcome).
CREATE TABLE slo_breaches (
  tenant_id text NOT NULL,
  breach_id uuid NOT NULL,
  -- hash of tenant, SLO, service, severity and long window: the same breach from any source
  fingerprint text NOT NULL,
  slo text NOT NULL,
  service text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('page', 'ticket')),
  long_window text NOT NULL,
  short_window text NOT NULL,
  source text NOT NULL CHECK (source IN ('evaluator', 'alertmanager')),
  -- the lower of the two windows' burn rates (evaluator), or the pair's burn rate (alertmanager)
  burn_rate double precision NOT NULL,
  started_at timestamptz NOT NULL,
  resolved_at timestamptz,
  -- what was done about incident mode: on, extended (one was active), cooldown, below_threshold,
  -- disabled (STELLA_SLO_INCIDENT_BURN_RATE=off), unknown_slo, not_page, failed, or pending while
  -- it is decided; with the incident id when one was switched on or extended
  incident text NOT NULL,
  incident_id uuid,
  PRIMARY KEY (tenant_id, breach_id)
);
CREATE UNIQUE INDEX slo_breaches_open ON slo_breaches (tenant_id, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX slo_breaches_started ON slo_breaches (tenant_id, started_at DESC);
ALTER TABLE slo_breaches ENABLE ROW LEVEL SECURITY;
ALTER TABLE slo_breaches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON slo_breaches
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON slo_breaches TO {{app_role}};
