/** EVI-3/EVI-7: the public key ring with its rotation log, and rotation (audited, AUTH-4). */
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import { KeyringResponse, RotateBody, RotateResult } from '../evidence/evidence-schemas.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import { KeyManagerError, type KeyManager } from './key-manager.js';

export interface KeysRouteDeps {
  keys: KeyManager;
  audit: AuditTrail;
  clock: () => number;
}

function keysUnavailable(error: unknown): unknown {
  return error instanceof KeyManagerError ? new ServiceError('evidence.keys_unavailable', 'the key ring is unavailable; see the service log', { cause: error }) : error;
}

export function keysRoutes(app: ServiceApp, deps: KeysRouteDeps): void {
  const { keys, audit, clock } = deps;

  app.get(
    '/evidence/keyring',
    {
      schema: {
        operationId: 'getKeyring',
        summary: "The public key ring that verifies this tenant's evidence, with its signed rotation log",
        tags: ['evidence'],
        response: { 200: described('The public keys, the current key and the signed rotation log (what `stella forensic verify --keyring` takes)', KeyringResponse) },
        'x-error-codes': ['evidence.keys_unavailable'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const { scope, document, keyring } = await keys.document(tenant).catch((error: unknown) => {
        throw keysUnavailable(error);
      });
      const now = new Date(clock());
      const current = keyring
        .keys()
        .filter((k) => keyring.checkKey(k.keyId, now).ok)
        .at(-1);
      return {
        version: 1 as const,
        log: [...document.log],
        scope: scope.kind,
        tenant_id: tenant,
        current_key_id: current?.keyId ?? null,
        keys: keyring.keys().map((k) => ({
          key_id: k.keyId,
          algorithm: k.algorithm,
          not_before: k.notBefore.toISOString(),
          not_after: k.notAfter?.toISOString() ?? null,
          revoked_at: k.revokedAt?.toISOString() ?? null,
          public_key_pem: k.publicKeyPem,
        })),
        rotations: keyring.entries().map((e) => ({ seq: e.seq, op: e.op, at: e.at, key_id: e.keyId })),
      };
    },
  );

  app.post(
    '/evidence/keys/rotate',
    {
      schema: {
        operationId: 'rotateSigningKey',
        summary: 'Rotate the signing key (platform: platform-wide scope only); audited',
        tags: ['evidence'],
        body: RotateBody,
        response: { 200: described('The previous and the new key id (audited)', RotateResult) },
        'x-error-codes': ['evidence.platform_scope_required', 'evidence.keys_unavailable'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      const target = request.body.scope ?? keys.scopeFor(auth.tenant).kind;
      if (target === 'tenant' && !keys.tenantKeys) {
        throw new ServiceError('request.invalid', 'per-tenant keys are off (STELLA_EVIDENCE_TENANT_KEYS); rotate the platform key instead', { field: 'body.scope' });
      }
      // A tenant's administrator may rotate its own key, never the one every tenant shares.
      if (target === 'platform' && auth.grantedBy.includes('#tenant/')) {
        throw new ServiceError('evidence.platform_scope_required', 'rotating the platform key needs a platform-wide scope (stella:evidence:admin without #tenant/)', {
          extra: { required_scope: 'stella:evidence:admin' },
        });
      }
      const result = await keys.rotate(target === 'platform' ? { kind: 'platform' } : { kind: 'tenant', tenant: auth.tenant }).catch((error: unknown) => {
        throw keysUnavailable(error);
      });
      const event = await audit.event(auth.tenant, {
        kind: 'audit.evidence.key_rotated',
        resource_type: 'signing_key',
        resource_id: result.key_id,
        details: { scope: target, previous_key_id: result.previous_key_id, key_id: result.key_id, at: result.at, granted_by: auth.grantedBy },
      });
      return { scope: target, previous_key_id: result.previous_key_id, key_id: result.key_id, at: result.at, audit_event_id: event.event_id };
    },
  );
}
