/**
 * The one catalogue of access rules: every route of the service, the scope it requires and
 * why. The auth plugin refuses to start a service with a route missing from here, and
 * docs/rbac.md is this table in prose. A requirement lists alternatives; the first is the one
 * a 403 names. A route acts on one tenant (`tenant`: the scope for that tenant, or
 * platform-wide) or, for operators, on every tenant at once (`platform`: the scope
 * platform-wide only).
 */
export type RouteAccess =
  | {
      kind: 'public';
      why: string;
      /** False for what is served but is not part of the API: left out of `/openapi.json` (the API description itself, the Console's files). */
      api?: false;
    }
  /** Any valid token, whatever its scopes and tenants (no tenant is selected). */
  | { kind: 'authenticated'; why: string }
  | {
      kind: 'tenant';
      /** Scope bases (`stella:<area>:<action>`), any of which grants access. */
      anyOf: readonly [string, ...string[]];
      why: string;
      /** A privileged action: audited as an `audit.*` timeline event (AUTH-4). */
      privileged?: boolean;
    }
  /**
   * An operators' route over every tenant: one of `anyOf` must be granted platform-wide (the
   * scope base without `#tenant/<id>`). No tenant is selected (`X-Stella-Tenant` is not read);
   * the same scope granted only for some tenants is refused with a 403 saying that the
   * platform-wide scope is needed.
   */
  | {
      kind: 'platform';
      /** Scope bases (`stella:<area>:<action>`), any of which, granted platform-wide, grants access. */
      anyOf: readonly [string, ...string[]];
      why: string;
    };

export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /healthz': { kind: 'public', why: 'liveness probe for orchestrators' },
  'GET /readyz': { kind: 'public', why: 'readiness probe: reports only whether the store and bus answer' },
  'GET /openapi.json': { kind: 'public', why: 'the API description', api: false },
  'GET /console': { kind: 'public', why: "the Console's page; the API calls it makes carry the signed-in user's token", api: false },
  'GET /console/*': { kind: 'public', why: "the Console's static files (scripts, styles) and its client routes", api: false },
  'GET /auth/whoami': { kind: 'authenticated', why: "who the token speaks for: its subject, expiry, scopes and tenants (the Console's sign-in and tenant switcher)" },
  'GET /metrics': { kind: 'public', why: "Prometheus scrapes the service's own metrics; they hold no tenant data beyond bounded tenant labels" },
  'GET /timeline': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: "page through the tenant's timeline" },
  'GET /timeline/:event_id': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: 'one event with links to its trace and evidence' },
  'GET /timeline/:event_id/context': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: 'the events just before and after one event, of the tenant, its resource or its trace' },
  'GET /timeline/filters': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: "the caller's own saved timeline filters in the tenant" },
  'PUT /timeline/filters/:name': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: "save one of the caller's own timeline filters (no tenant data changes)" },
  'DELETE /timeline/filters/:name': { kind: 'tenant', anyOf: ['stella:timeline:read'], why: "delete one of the caller's own saved timeline filters" },
  'POST /timeline/events': { kind: 'tenant', anyOf: ['stella:timeline:write'], why: 'service ingest for producers without bus access' },
  'GET /timeline/retention': { kind: 'tenant', anyOf: ['stella:timeline:read', 'stella:timeline:admin'], why: "the tenant's timeline retention" },
  'PUT /timeline/retention': {
    kind: 'tenant',
    anyOf: ['stella:timeline:admin', 'stella:telemetry:admin'],
    why: "change the tenant's timeline retention",
    privileged: true,
  },
  'GET /obs/trace/:trace_id': { kind: 'tenant', anyOf: ['stella:obs:read'], why: 'one trace as a tree of its stored spans' },
  'GET /obs/traces': { kind: 'tenant', anyOf: ['stella:obs:read'], why: "search the tenant's traces by service, route, status, duration and attribute within the window and result guardrails" },
  'GET /obs/logs': { kind: 'tenant', anyOf: ['stella:obs:read'], why: "search the tenant's logs within the window and result guardrails" },
  'GET /obs/routes': { kind: 'tenant', anyOf: ['stella:obs:read'], why: 'request rate, error ratio and p95 per service and route' },
  'GET /obs/metrics': { kind: 'tenant', anyOf: ['stella:obs:read'], why: "the tenant's ingested metrics as series: rates, gauges, histogram quantiles" },
  'GET /obs/slo': { kind: 'tenant', anyOf: ['stella:obs:read'], why: "each SLO's SLI, remaining error budget and burn rates for the tenant, and its latest breaches" },
  'POST /telemetry/alerts/alertmanager': {
    kind: 'tenant',
    anyOf: ['stella:incident:admin'],
    why: "Alertmanager's webhook: firing page-level SLO burn alerts act as the tenant's SLO breaches (bus event, webhooks, incident mode)",
    privileged: true,
  },
  'GET /obs/health': { kind: 'tenant', anyOf: ['stella:obs:read'], why: 'per-service health summary from recent telemetry' },
  'GET /obs/tenants': {
    kind: 'platform',
    anyOf: ['stella:obs:read', 'stella:telemetry:admin'],
    why: "operators: the tenants sending the most telemetry over a window (counts of indexed spans, logs and metric points only, no tenant's records)",
  },
  'GET /telemetry/exports/forensic/:window': { kind: 'tenant', anyOf: ['stella:evidence:export'], why: "signed forensic capture of the tenant's telemetry", privileged: true },
  'GET /telemetry/exports/signing-key': { kind: 'tenant', anyOf: ['stella:evidence:export', 'stella:evidence:read', 'stella:obs:read'], why: 'the public key forensic captures are signed with' },
  'GET /telemetry/config/profile/:name': {
    kind: 'tenant',
    anyOf: ['stella:telemetry:admin'],
    why: 'a Collector profile signed for deployment (stella telemetry deploy): the configuration of what the Collectors receive, redact, keep and send where, for telemetry administrators',
  },
  'GET /telemetry/status': {
    kind: 'tenant',
    anyOf: ['stella:obs:read', 'stella:telemetry:admin'],
    why: "the tenant's ingest rates at this replica and whether the installation is sealed (stella telemetry status)",
  },
  'GET /telemetry/incidents/mode': { kind: 'tenant', anyOf: ['stella:obs:read', 'stella:incident:admin', 'stella:telemetry:write'], why: "the tenant's incident modes (polled by telemetry-core processes)" },
  'POST /telemetry/incidents/mode': { kind: 'tenant', anyOf: ['stella:incident:admin'], why: 'switch incident mode on or off for the tenant or one service', privileged: true },
  'GET /telemetry/deep-debug': {
    kind: 'tenant',
    anyOf: ['stella:telemetry:admin', 'stella:telemetry:write', 'stella:obs:read'],
    why: "the tenant's deep-debug grant in force and recent ones (polled by telemetry-core processes)",
  },
  'POST /telemetry/deep-debug': { kind: 'tenant', anyOf: ['stella:telemetry:admin'], why: "relax e-mail and path redaction of the tenant's telemetry until a TTL (secrets never)", privileged: true },
  'DELETE /telemetry/deep-debug/:tenant': { kind: 'tenant', anyOf: ['stella:telemetry:admin'], why: "end the tenant's deep-debug grant now", privileged: true },
  'GET /telemetry/quarantine': { kind: 'tenant', anyOf: ['stella:telemetry:admin'], why: 'inspect records that were acknowledged but refused by their destination (raw payloads)' },
  'POST /telemetry/quarantine/replay': { kind: 'tenant', anyOf: ['stella:telemetry:admin'], why: 'try quarantined records again where they belong', privileged: true },
  'GET /telemetry/retention': { kind: 'tenant', anyOf: ['stella:telemetry:admin', 'stella:obs:read'], why: "the tenant's telemetry retention tiers per signal and the policy's bounds" },
  'PUT /telemetry/retention': {
    kind: 'tenant',
    anyOf: ['stella:telemetry:admin'],
    why: "change the tenant's telemetry retention tiers within the policy's floors and ceilings",
    privileged: true,
  },
  'POST /telemetry/reindex': { kind: 'tenant', anyOf: ['stella:telemetry:admin'], why: "rebuild the tenant's telemetry index from its segments", privileged: true },
  'POST /evidence/artifacts': { kind: 'tenant', anyOf: ['stella:evidence:create'], why: 'services attach input artifacts (by digest) to a resource for later snapshots' },
  'POST /evidence/snapshot': { kind: 'tenant', anyOf: ['stella:evidence:create'], why: 'gather, sign and commit an evidence bundle' },
  'GET /evidence': { kind: 'tenant', anyOf: ['stella:evidence:read'], why: "list the tenant's evidence bundles" },
  'GET /evidence/:bundle_id': { kind: 'tenant', anyOf: ['stella:evidence:read'], why: 'a bundle: manifest, signed hashes, verification status' },
  'GET /evidence/:bundle_id/files/*': { kind: 'tenant', anyOf: ['stella:evidence:read'], why: "one file of a bundle by its manifest path, checked against the signed manifest before it is served (the Console's file viewer)" },
  'GET /evidence/:bundle_id/archive': { kind: 'tenant', anyOf: ['stella:evidence:export'], why: 'download the bundle archive (an export)', privileged: true },
  'DELETE /evidence/:bundle_id': { kind: 'tenant', anyOf: ['stella:evidence:admin'], why: 'delete a bundle past retention; refused under hold', privileged: true },
  'POST /evidence/verify': { kind: 'tenant', anyOf: ['stella:evidence:read'], why: 'verify a stored bundle or an uploaded archive' },
  'POST /evidence/hold/:case_id': { kind: 'tenant', anyOf: ['stella:evidence:export'], why: 'place or release the legal hold on a case', privileged: true },
  'GET /evidence/retention': { kind: 'tenant', anyOf: ['stella:evidence:read', 'stella:evidence:admin'], why: "the tenant's evidence retention" },
  'PUT /evidence/retention': { kind: 'tenant', anyOf: ['stella:evidence:admin'], why: "change the tenant's evidence retention or incident extension", privileged: true },
  'GET /evidence/keyring': { kind: 'tenant', anyOf: ['stella:evidence:read', 'stella:attest:read'], why: 'the public key ring and rotation log for offline verification' },
  'POST /evidence/keys/rotate': { kind: 'tenant', anyOf: ['stella:evidence:admin'], why: 'rotate the signing key (platform key: platform-wide scope only)', privileged: true },
  'POST /attestations': { kind: 'tenant', anyOf: ['stella:attest:create'], why: 'services record signed attestations or have a statement signed' },
  'GET /attestations': { kind: 'tenant', anyOf: ['stella:attest:read'], why: 'attestations of a subject, verified on read' },
  'GET /attestations/:id': { kind: 'tenant', anyOf: ['stella:attest:read'], why: 'one attestation, verified on read' },
  'POST /attestations/verify': { kind: 'tenant', anyOf: ['stella:attest:read'], why: 'verify a stored attestation or an envelope' },
  'POST /dora/deployments': { kind: 'tenant', anyOf: ['stella:dora:write'], why: 'record a deployment (the Release Orchestrator, release scripts); idempotent by id' },
  'PUT /dora/incidents/:incident_id': { kind: 'tenant', anyOf: ['stella:dora:write'], why: 'create or update an incident: severity, start, acknowledgement, resolution' },
  'GET /dora/metrics': { kind: 'tenant', anyOf: ['stella:dora:read'], why: "the tenant's DORA metrics, levels and SLO breaches over a window" },
  'GET /dora/report': { kind: 'tenant', anyOf: ['stella:dora:read'], why: "the tenant's executive outcome report: by pipeline, severity and day" },
  'POST /federation/consents': { kind: 'tenant', anyOf: ['stella:federation:admin'], why: "sign and record the tenant's consent to share anonymised aggregates", privileged: true },
  'GET /federation/consents': { kind: 'tenant', anyOf: ['stella:federation:read', 'stella:federation:admin'], why: "the tenant's consents and their envelopes" },
  'POST /federation/bundles': { kind: 'tenant', anyOf: ['stella:federation:admin'], why: "build, sign and export a bundle of the tenant's anonymised aggregates under a consent", privileged: true },
  'GET /federation/bundles': { kind: 'tenant', anyOf: ['stella:federation:read', 'stella:federation:admin'], why: "the tenant's exported bundles" },
  'GET /federation/bundles/:bundle_id': { kind: 'tenant', anyOf: ['stella:federation:read', 'stella:federation:admin'], why: 'one exported bundle with its envelope and its consent envelope' },
  'POST /federation/bundles/verify': { kind: 'tenant', anyOf: ['stella:federation:read', 'stella:federation:admin'], why: "verify a bundle and its consent against the service's federation key map" },
  'GET /custody/:resource_type/:resource_id': { kind: 'tenant', anyOf: ['stella:evidence:read'], why: 'chain of custody of a resource, verified as a whole' },
};

/** The catalogue key of a route. */
export function routeKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

/**
 * The scope vocabulary (SPEC AUTH-1 plus the service's own), with what each grants. Scopes of
 * features not yet served are listed so tokens can be issued ahead of them.
 */
export const SCOPE_VOCABULARY: Readonly<Record<string, string>> = {
  'stella:timeline:read': "read the tenant's timeline and retention setting; keep one's own saved timeline filters",
  'stella:timeline:write': 'append events to the tenant timeline (service ingest)',
  'stella:timeline:admin': "change the tenant's timeline retention (audited)",
  'stella:telemetry:admin': 'platform telemetry administration: profiles, retention, deep-debug opt-ins (audited)',
  'stella:incident:admin': 'switch incident mode on or off (audited)',
  'stella:obs:read': 'observability read APIs (health, SLOs, traces, logs, metrics)',
  'stella:telemetry:write': 'send OTLP traces, metrics and logs to the embedded receiver',
  'stella:evidence:create': 'create evidence snapshots',
  'stella:evidence:read': 'read evidence bundles and their manifests',
  'stella:evidence:export': 'export evidence bundles; place or release legal holds (audited)',
  'stella:attest:read': 'read and verify attestations',
  'stella:attest:create': 'record attestations or have statements signed with the evidence key',
  'stella:evidence:admin': 'delete expired evidence, change evidence retention, rotate signing keys (audited)',
  'stella:dora:write': 'record deployments and incidents (DORA)',
  'stella:dora:read': "read the tenant's DORA metrics, levels and outcome report",
  'stella:federation:admin': 'record federation consents and export anonymised aggregate bundles (audited)',
  'stella:federation:read': 'list federation consents and bundles, and verify bundles',
};
