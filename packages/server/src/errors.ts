/**
 * The service's one error catalogue (modelled on fastify's `lib/errors.js`): every error code
 * the service raises, in one table. A code a client can see has its HTTP status, its gRPC
 * status when the OTLP receivers answer it, whether the same request may succeed later
 * (`retryable`: 429 and 503, always sent with `Retry-After`) and its meaning. A code raised
 * inside the service (object store, segments, key ring, store, bus) is never put in a response:
 * it names the code a request that meets it is answered with (`answeredAs`).
 *
 * Every domain error carries a code of this table, checked by the compiler: `ServiceError`
 * (and its `OtlpError` and `RetentionBoundError`) takes a response code; `StoreError`,
 * `SegmentError`, `BlobError`, `KeyManagerError` take the codes of their prefix; telemetry-core's
 * `TimelineError` codes must all be here. The one Fastify error handler (http/error-handler.ts)
 * and the OTLP receivers (otlp/otlp-error.ts) map errors through this table only; the OpenAPI
 * document lists each route's codes from it, and docs/errors.md is generated from it
 * (`test/errors-catalogue.test.ts` keeps the page, the thrown codes and this table in step).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FederationErrorCode } from '@stellaops/forensics';
import type { TimelineErrorCode } from '@stellaops/telemetry-core';

/** Seconds a client is told to wait (`Retry-After`) before retrying a 503 that names no delay of its own. */
export const RETRY_AFTER_SECONDS = 5;

/** A code that can be the `error_code` of a response. */
export interface ResponseSpec {
  /** HTTP status of the answer. */
  readonly http: number;
  /** gRPC status when the OTLP/gRPC receiver answers it. */
  readonly grpc?: GrpcStatus;
  /** The same request may succeed later: 429 and 503, answered with `Retry-After`. */
  readonly retryable: boolean;
  /** One line: what happened, or what to do. */
  readonly meaning: string;
  /** The fixed sentence clients get when nothing more specific may be said (never internals). */
  readonly message?: string;
}

/** A code raised inside the service; never in a response. */
export interface InternalSpec {
  /** The response code a request that meets this error is answered with. */
  readonly answeredAs: string;
  readonly meaning: string;
}

export const ERRORS = {
  // Requests: what Fastify's router, parsers and the request schemas refuse.
  'request.invalid': {
    http: 400,
    retryable: false,
    meaning: 'a request value breaks a schema rule, or is one the database cannot take (SQLSTATE class 22); `field` names it (`query.limit`, `body.events[0].kind`) when known',
  },
  'request.body_too_large': { http: 413, retryable: false, meaning: 'the body is larger than the route accepts', message: 'the request body is larger than this route accepts' },
  'request.uri_too_long': { http: 414, retryable: false, meaning: 'a path parameter is longer than the router accepts', message: 'a path parameter is longer than the service accepts' },
  'request.unsupported_media_type': { http: 415, retryable: false, meaning: 'the body has a Content-Type the route does not take', message: 'send the body as application/json' },
  'route.not_found': { http: 404, retryable: false, meaning: 'no route has this method and path; /openapi.json lists them' },
  // Tenant and authentication (AUTH-1..3); the OTLP receivers answer the same codes.
  'tenant.required': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'the token names no tenant: name one with the X-Stella-Tenant header' },
  'tenant.ambiguous': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'the token names several tenants: name one with the X-Stella-Tenant header' },
  'tenant.invalid': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'X-Stella-Tenant is not 1-64 letters, digits, "_" or "-" starting with a letter or digit' },
  'auth.token_missing': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false, meaning: 'no bearer token in Authorization' },
  'auth.token_invalid': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false, meaning: 'the token is malformed, its signature or key is unknown, or its iss, aud or algorithm is not accepted' },
  'auth.token_expired': { http: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false, meaning: 'the token has expired (30 s clock tolerance)' },
  'auth.scope_denied': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED, retryable: false, meaning: 'the token lacks the scope of the route; `required_scope` names it (on routes over every tenant, such as `GET /obs/tenants`, a base without `#tenant/`: the scope must be granted platform-wide)' },
  'auth.tenant_denied': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED, retryable: false, meaning: 'the token has the scope, but for other tenants; `required_scope` names the one needed' },
  'auth.authority_unavailable': { http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, meaning: "the authority's key set (JWKS URL) could not be fetched" },
  // Timeline (TL-*).
  'timeline.window_too_wide': { http: 400, retryable: false, meaning: "from/to span more than the tenant's timeline retention; `allowed.earliest_from` says how far back" },
  'timeline.limit_too_large': { http: 400, retryable: false, meaning: 'limit is above the largest page; follow next_cursor instead' },
  'timeline.cursor_invalid': { http: 400, retryable: false, meaning: 'cursor is not a next_cursor this service issued' },
  'timeline.event_invalid': { http: 400, retryable: false, meaning: 'an event does not follow the timeline event schema' },
  'timeline.kind_invalid': { http: 400, retryable: false, meaning: "an event's kind is not a dotted lower-case name" },
  'timeline.tenant_invalid': { http: 400, retryable: false, meaning: "an event's tenant_id is not a valid tenant id" },
  'timeline.details_too_large': { http: 400, retryable: false, meaning: "an event's details are larger than the event schema allows" },
  'timeline.digest_mismatch': { http: 400, retryable: false, meaning: "an event's digest does not match its content" },
  'timeline.tenant_mismatch': { http: 403, retryable: false, meaning: "an event names another tenant than the request's" },
  'timeline.not_found': { http: 404, retryable: false, meaning: "no event with this id in the tenant's timeline" },
  'timeline.filter_not_found': { http: 404, retryable: false, meaning: 'the caller has no saved filter of this name in the tenant (each user sees only their own)' },
  'timeline.filter_limit': { http: 409, retryable: false, meaning: 'the caller keeps the most saved filters allowed in the tenant; delete one, or save under an existing name to replace it; `allowed.max_filters` says how many' },
  // Retention (STO-4, TL, EVI).
  'retention.out_of_bounds': { http: 400, retryable: false, meaning: 'a retention setting is below its floor or above its ceiling; `allowed` names the bounds' },
  // Observability read APIs (OBS-1).
  'obs.window_invalid': { http: 400, retryable: false, meaning: 'from, to, since or severity is not understood, from and since are both given, or from is not before to' },
  'obs.window_too_wide': { http: 400, retryable: false, meaning: 'the window spans more than the read APIs allow; `allowed` says how far back' },
  'obs.limit_too_large': { http: 400, retryable: false, meaning: 'limit is above the result cap; narrow the window or add filters' },
  'obs.trace_id_invalid': { http: 400, retryable: false, meaning: 'a trace id is 32 hex characters, not all zero' },
  'obs.trace_not_found': { http: 404, retryable: false, meaning: "no span of this trace in the tenant's telemetry" },
  'obs.attribute_invalid': { http: 400, retryable: false, meaning: 'attribute is not key=value with a non-empty key' },
  // Metrics query (OBS-2) and SLO status (SLO-2).
  'obs.metric_name_invalid': { http: 400, retryable: false, meaning: 'name is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)' },
  'obs.match_invalid': { http: 400, retryable: false, meaning: 'match is not a label selector such as {job="api",code=~"5.."}, or it names another metric than name' },
  'obs.step_invalid': { http: 400, retryable: false, meaning: 'step is not a whole number of seconds (30, 15s, 1m, 1h) from 1 s up to the window' },
  'obs.quantile_invalid': { http: 400, retryable: false, meaning: 'quantile is not a number from 0 to 1, or the metric is not a histogram' },
  'obs.too_many_points': { http: 400, retryable: false, meaning: 'the window divided by step gives more points per series than allowed; `allowed.min_step_seconds` says the smallest step' },
  'obs.too_many_series': { http: 400, retryable: false, meaning: 'more series match than one answer may hold; narrow match; `allowed.max_series` says how many' },
  'obs.metrics_unavailable': { http: 503, retryable: true, meaning: 'Prometheus (STELLA_PROMETHEUS_URL) could not be reached or did not answer in time' },
  'obs.metrics_backend_failed': { http: 502, retryable: false, meaning: 'Prometheus refused the query the service wrote; the message has its error' },
  'slo.not_found': { http: 404, retryable: false, meaning: 'no SLO of this name is loaded (STELLA_SLO_DIR); `allowed.slos` lists them' },
  // Forensic capture (FOR-1).
  'capture.window_invalid': { http: 400, retryable: false, meaning: 'the capture window is neither a duration (24h, 90m, 7d) nor an ISO interval, is empty, or starts after now' },
  'capture.window_too_wide': { http: 400, retryable: false, meaning: 'the capture window is longer than a capture may cover; split it' },
  // Signed Collector profiles (COL-3).
  'profile.not_found': { http: 404, retryable: false, meaning: 'no Collector profile has this name; `allowed.profiles` lists them (default, forensic, airgap)' },
  // Incident mode (INC-1).
  'incident.tenant_mismatch': { http: 403, retryable: false, meaning: "body.tenant names another tenant than the request's" },
  'incident.ttl_invalid': { http: 400, retryable: false, meaning: 'ttl is not a duration (4h, 90m, PT4H) or is longer than allowed' },
  'incident.cooldown': { http: 409, retryable: false, meaning: 'an automatic trigger came within the cool-down after the last incident of this scope; an operator may still turn it on' },
  'incident.not_active': { http: 409, retryable: false, meaning: 'incident mode is not on for this scope, so it cannot be turned off' },
  // Deep debug (CORE-2): a tenant's time-boxed relaxing of e-mail and path redaction.
  'deepdebug.tenant_mismatch': { http: 403, retryable: false, meaning: "the tenant named in the body or path is another than the request's (X-Stella-Tenant or the token's)" },
  'deepdebug.ttl_invalid': { http: 400, retryable: false, meaning: 'ttl is missing, is not a duration (30m, 2h, 1800s, PT30M) or is longer than a grant may last; `allowed.max_seconds` says how long' },
  'deepdebug.reason_required': { http: 400, retryable: false, meaning: 'reason is missing or blank: say why redaction is relaxed (a ticket, an incident); it is recorded in the audit trail' },
  'deepdebug.not_active': { http: 409, retryable: false, meaning: 'deep debug is not on for the tenant, so it cannot be switched off' },
  // Evidence locker, attestations, chain of custody (EVI-*, ATT-*, TL-5).
  'evidence.not_found': { http: 404, retryable: false, meaning: 'no evidence bundle with this id in the tenant (another tenant\'s looks the same)' },
  'evidence.inputs_missing': { http: 422, retryable: false, meaning: 'the service holds no artifact or timeline event about the resource to snapshot' },
  'evidence.exists': { http: 409, retryable: false, meaning: 'a committed object already has this key; committed evidence is never replaced' },
  'evidence.on_hold': { http: 409, retryable: false, meaning: "the bundle's case is under legal hold; the refusal is audited" },
  'evidence.retained': { http: 409, retryable: false, meaning: 'the bundle is within its retention, an incident extension or the object lock; the refusal is audited' },
  'evidence.archive_invalid': { http: 400, retryable: false, meaning: 'uploaded content does not match its stated digest' },
  'evidence.snapshot_in_progress': { http: 409, retryable: false, meaning: "a bundle of this case is being made now (a snapshot, through this or another replica); list the case's bundles once it is done, or snapshot again then" },
  'evidence.artifact_conflict': { http: 409, retryable: false, meaning: 'an artifact of this name was already attached with other content; attached artifacts are immutable' },
  'evidence.id_invalid': { http: 400, retryable: false, meaning: 'a bundle, case, subject or attestation id, or an artifact name, is malformed' },
  'evidence.storage_unavailable': { http: 503, retryable: true, meaning: 'the evidence object store cannot be read or written now', message: 'the evidence store is unavailable; retry shortly' },
  'evidence.keys_unavailable': { http: 503, retryable: true, meaning: 'the signing key or key ring cannot be loaded; the service log says why', message: 'the signing key is unavailable; see the service log' },
  'evidence.timestamp_failed': { http: 502, retryable: false, meaning: 'the RFC 3161 timestamp authority could not be reached or gave an unusable answer; nothing was committed' },
  'evidence.file_not_found': { http: 404, retryable: false, meaning: "the bundle's manifest lists no file at this path (paths as the manifest lists them, relative to files/)" },
  'evidence.file_too_large': { http: 413, retryable: false, meaning: 'the file is larger than a single file read serves; download the bundle archive (GET /evidence/:bundle_id/archive) instead; `allowed.max_bytes` says how large' },
  'evidence.integrity_failed': {
    http: 500,
    retryable: false,
    meaning: "a stored bundle file does not match the size and SHA-256 of its signed manifest, or the manifest's files do not give the root recorded at commit: the bundle was altered in the object store, so its bytes are not served (GET /evidence/:bundle_id reports the failure)",
  },
  'evidence.platform_scope_required': { http: 403, retryable: false, meaning: 'rotating the platform key needs a platform-wide scope (stella:evidence:admin without #tenant/)' },
  'attestation.not_found': { http: 404, retryable: false, meaning: 'no attestation with this id in the tenant' },
  'attestation.invalid': { http: 400, retryable: false, meaning: 'the statement or envelope is not an in-toto Statement v1 / DSSE envelope that verifies against the tenant key ring' },
  'custody.not_found': { http: 404, retryable: false, meaning: 'no chain-of-custody step is recorded for this resource in the tenant' },
  // DORA delivery metrics (DORA-1..5).
  'dora.record_invalid': {
    http: 400,
    retryable: false,
    meaning: 'a deployment or incident breaks a rule across its fields: `field` names it (`body.deploy_time` before commit_time, `body.acknowledged_at` or `body.resolved_at` before started_at)',
  },
  'dora.deployment_conflict': { http: 409, retryable: false, meaning: 'a deployment of this id was recorded before with other content; deployments are immutable (the same content again is a 200)' },
  'dora.window_invalid': { http: 400, retryable: false, meaning: 'from is not before to, or the window is longer than 366 days; `allowed.max_days` says how long' },
  'dora.window_too_large': { http: 400, retryable: false, meaning: 'the window holds more deployments or incidents than one answer computes; narrow it or name an environment' },
  // Federation (FED-1..4): the library's codes, and the service's own.
  'federation.dsse.sign_failed': { http: 500, retryable: false, meaning: 'the federation signer failed or gave no signature (a secret shorter than 16 bytes, a KMS failure); nothing was recorded' },
  'federation.dsse.signer_unavailable': {
    http: 503,
    retryable: true,
    meaning: 'no federation signing key: the key map (STELLA_FEDERATION_KEYS_FILE) is missing or unreadable, or holds no key of STELLA_FEDERATION_SIGNING_KEY_ID (or several keys and no id), and unsigned envelopes are not allowed',
  },
  'federation.dsse.payload_type_mismatch': { http: 422, retryable: false, meaning: 'an envelope of another payload type than expected (a consent where a bundle belongs, or the other way)' },
  'federation.dsse.untrusted_key': { http: 422, retryable: false, meaning: "no signature of the envelope is by a key of the service's federation key map" },
  'federation.dsse.signature_invalid': { http: 422, retryable: false, meaning: 'the MAC of a trusted key does not verify over the payload, the envelope has no signature, or it is unsigned (offline-unsigned-fallback) and allow_unsigned was not asked for' },
  'federation.consent.expired': { http: 422, retryable: false, meaning: 'the consent was not in force when the bundle was (or would be) created: createdAt is at or after its expiresAt' },
  'federation.consent.digest_mismatch': { http: 422, retryable: false, meaning: "the bundle's consentDigest is not the digest of the consent envelope given with it" },
  'federation.payload.invalid': {
    http: 400,
    retryable: false,
    meaning: 'an envelope or payload breaks the format: not JSON or base64, not canonical JSON, a member out of rules or unknown, buckets out of order, a bundleId not derived from the payload',
  },
  'federation.consent_not_found': { http: 404, retryable: false, meaning: 'no consent of this id in the tenant' },
  'federation.consent_conflict': { http: 409, retryable: false, meaning: 'a consent of this id was recorded before with other content; consents are immutable' },
  'federation.bundle_not_found': { http: 404, retryable: false, meaning: 'no bundle of this id in the tenant' },
  'federation.window_invalid': { http: 400, retryable: false, meaning: 'from is not before to, the window is longer than 366 days, or it holds more findings documents than one bundle reads' },
  // OTLP receivers (STO-2), ports 4318 and 4317: `google.rpc.Status` body, `x-stella-error-code` header or trailer.
  'otlp.not_found': { http: 404, grpc: GrpcStatus.UNIMPLEMENTED, retryable: false, meaning: 'no OTLP endpoint at this path: use /v1/traces, /v1/metrics or /v1/logs' },
  'otlp.method_not_allowed': { http: 405, grpc: GrpcStatus.UNIMPLEMENTED, retryable: false, meaning: 'OTLP/HTTP takes POST only' },
  'otlp.unsupported_media_type': { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'Content-Type is neither application/x-protobuf nor application/json' },
  'otlp.unsupported_encoding': { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'Content-Encoding is neither gzip, deflate nor identity' },
  'otlp.body_too_large': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, meaning: 'the body as sent is over STELLA_OTLP_MAX_MESSAGE_BYTES' },
  'otlp.decompressed_too_large': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, meaning: 'the body inflates to more than STELLA_OTLP_MAX_MESSAGE_BYTES' },
  'otlp.too_many_items': { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, meaning: 'more items (spans, log records, data points) or attributes in one request than the per-request limits; split the batch' },
  'otlp.malformed_gzip': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'the body is not valid gzip or deflate' },
  'otlp.malformed_protobuf': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'the body is not a valid protobuf export request of its signal' },
  'otlp.malformed_json': { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, meaning: 'the body is not JSON, or not an OTLP/JSON export request' },
  'otlp.tenant_mismatch': { http: 403, grpc: GrpcStatus.PERMISSION_DENIED, retryable: false, meaning: "a resource attribute names another tenant than the token's" },
  'otlp.quota_exceeded': { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: true, meaning: "the tenant is over its ingest quota (records or bytes per second); OTLP/gRPC clients retry it only with RetryInfo, which is not sent" },
  'otlp.overloaded': { http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, meaning: 'the receiver is at its memory budget, its prepare queue or its index backlog' },
  'otlp.unavailable': { http: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, meaning: 'the telemetry store, a prepare worker or the token check failed for now' },
  'otlp.internal': { http: 500, grpc: GrpcStatus.INTERNAL, retryable: false, meaning: 'an unexpected receiver failure; the service log has it' },
  // The service's own parts.
  'store.unavailable': {
    http: 503,
    retryable: true,
    meaning: 'the database cannot be reached, is shutting down or out of resources (SQLSTATE 08, 53, 57P01-57P03, 58), or the disk is full, read-only or failing (ENOSPC, EDQUOT, EROFS, EIO, EMFILE, ENFILE)',
    message: 'the database or data directory is unavailable; retry shortly',
  },
  'bus.unavailable': { http: 503, retryable: true, meaning: 'the message bus did not take the events', message: 'the message bus is unavailable; retry shortly' },
  'service.shutting_down': { http: 503, retryable: true, meaning: 'the service is shutting down; the connection is closed, retry on another replica', message: 'the service is shutting down; retry on another replica' },
  internal: { http: 500, retryable: false, meaning: 'an unexpected failure; the request id in x-request-id locates it in the service log', message: 'internal error; the request id in x-request-id locates it in the service log' },

  // Raised inside the service, never in a response.
  'store.locked': { answeredAs: 'internal', meaning: 'another running process holds the data directory (db.lock); the service does not start' },
  'store.migration_failed': { answeredAs: 'internal', meaning: 'a migration failed; the service does not start' },
  'store.migration_changed': { answeredAs: 'internal', meaning: 'an applied migration was edited (checksum differs); the service does not start' },
  'store.role_bypasses_rls': { answeredAs: 'internal', meaning: 'the application role could bypass row-level security; the service does not start' },
  'bus.closed': { answeredAs: 'bus.unavailable', meaning: 'the bus is closed (shutting down)' },
  'bus.publish_failed': { answeredAs: 'bus.unavailable', meaning: 'the bus did not acknowledge a message' },
  'bus.subject_invalid': { answeredAs: 'internal', meaning: 'a subject, durable name or consumer option is not valid' },
  'blob.key_invalid': { answeredAs: 'internal', meaning: 'an object key (or a tenant, case, bundle or subject id in it) is malformed or would leave its prefix' },
  'blob.exists': { answeredAs: 'internal', meaning: 'a committed object already has this key (the locker answers evidence.exists)' },
  'blob.not_found': { answeredAs: 'internal', meaning: 'no object with this key (the locker answers evidence.not_found)' },
  'blob.locked': { answeredAs: 'internal', meaning: 'the object store refused a deletion: legal hold or retention lock (the locker answers evidence.retained)' },
  'blob.unavailable': { answeredAs: 'evidence.storage_unavailable', meaning: 'the object store failed (I/O, network, credentials)' },
  'segment.sealed': { answeredAs: 'internal', meaning: "an append went to a sealed segment (records go to the current hour's)" },
  'segment.io_error': { answeredAs: 'internal', meaning: 'a telemetry segment could not be opened, written or synced (a full or failing disk is store.unavailable, or otlp.unavailable on the receivers)' },
  'segment.corrupt': { answeredAs: 'internal', meaning: 'a segment record fails its checksum or ends early' },
  'keys.unavailable': { answeredAs: 'evidence.keys_unavailable', meaning: 'a key ring or signing key cannot be read, does not verify, or has no key valid now' },
  'segment.replica_invalid': { answeredAs: 'internal', meaning: 'the replica id (STELLA_REPLICA_ID, or the one kept in the data directory) cannot be part of a segment file name' },
  'segment.not_sealed': { answeredAs: 'internal', meaning: "another replica's segment was not removed because it is not sealed: its writer may still append to it" },
  'keys.not_found': { answeredAs: 'evidence.keys_unavailable', meaning: 'no key ring for this scope' },
} as const satisfies Record<string, ResponseSpec | InternalSpec>;

/** Every code of the catalogue. */
export type ErrorCode = keyof typeof ERRORS;
type Spec<C extends ErrorCode> = (typeof ERRORS)[C];

/** Codes a response may carry as its `error_code`. */
export type ResponseCode = { [C in ErrorCode]: Spec<C> extends { http: number } ? C : never }[ErrorCode];
/** Codes raised inside the service only. */
export type InternalCode = Exclude<ErrorCode, ResponseCode>;
/** Codes the OTLP receivers answer (they have a gRPC status). */
export type OtlpErrorCode = { [C in ErrorCode]: Spec<C> extends { grpc: number } ? C : never }[ErrorCode];
/** Response codes with a fixed client message (what internal codes may be answered as). */
type FixedMessageCode = { [C in ResponseCode]: Spec<C> extends { message: string } ? C : never }[ResponseCode];
/** The codes of one prefix (`store`, `blob`, ...): what a subsystem's error class may carry. */
export type CodesOf<Prefix extends string> = Extract<ErrorCode, `${Prefix}.${string}`>;

// Compile-time wiring checks: an internal code is answered as a response code with a fixed
// message, every code telemetry-core's TimelineError carries is in the catalogue, and so is every
// code of the forensics library's FederationError, as a response code.
type AnsweredAs = { [C in InternalCode]: Spec<C>['answeredAs'] }[InternalCode];
const internalCodesAnswerWithFixedMessages: [AnsweredAs] extends [FixedMessageCode] ? true : never = true;
const timelineCodesCatalogued: [TimelineErrorCode] extends [ErrorCode] ? true : never = true;
// The federation library's codes are answered as they are (the service rethrows them as ServiceErrors).
const federationCodesCatalogued: [FederationErrorCode] extends [ResponseCode] ? true : never = true;
void internalCodesAnswerWithFixedMessages;
void timelineCodesCatalogued;
void federationCodesCatalogued;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** Every code of the catalogue, in its order. */
export const ERROR_CODES: readonly ErrorCode[] = Object.keys(ERRORS).filter(isErrorCode);

export function isResponseCode(code: ErrorCode): code is ResponseCode {
  return 'http' in ERRORS[code];
}

/** The catalogue entry of a response code. */
export function responseSpec(code: ResponseCode): ResponseSpec {
  return ERRORS[code];
}

/** The response code a request that meets `code` is answered with (itself for response codes). */
export function answeredAs(code: ErrorCode): ResponseCode {
  if (isResponseCode(code)) return code;
  return ERRORS[code].answeredAs;
}

export function httpStatus(code: ResponseCode): number {
  return responseSpec(code).http;
}

export function isRetryable(code: ResponseCode): boolean {
  return responseSpec(code).retryable;
}

export interface ServiceErrorOptions {
  /** The request field at fault (`query.limit`, `body.events[3].kind`). */
  field?: string;
  /** Extra members of the response body (e.g. `required_scope`, `tenant`, `allowed`). */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/** A domain error a client sees: its code decides the status (catalogue), its message is safe to show. */
export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';
  readonly field: string | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    readonly code: ResponseCode,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.field = options.field;
    this.extra = options.extra;
  }

  get status(): number {
    return httpStatus(this.code);
  }

  get retryable(): boolean {
    return isRetryable(this.code);
  }
}

/** The body every error response has; 403s add `required_scope` and `tenant`, bounds errors `allowed`. */
export interface ErrorBody {
  error_code: ResponseCode;
  message: string;
  field?: string;
  [extra: string]: unknown;
}
