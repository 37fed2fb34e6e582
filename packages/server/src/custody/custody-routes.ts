/** TL-5 API: the chain of custody of a resource, verified as a whole. */
import { Type } from 'typebox';
import { described } from '../http/openapi.js';
import { SafeId } from '../http/safe-schema.js';
import type { ServiceApp } from '../service-feature.js';
import type { CustodyService } from './custody-service.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const Check = Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) });

const Chain = Type.Object({
  resource_type: Type.String(),
  resource_id: Type.String(),
  complete: Type.Boolean({ description: 'every step is recorded' }),
  verified: Type.Boolean({ description: 'complete, and every link, event digest, bundle and attestation verifies' }),
  problems: Type.Array(Type.String()),
  steps: Type.Array(
    Type.Object({
      step: Type.String(),
      present: Type.Boolean(),
      event_id: Nullable(Type.String()),
      kind: Nullable(Type.String()),
      ts: Nullable(Type.String()),
      trace_id: Nullable(Type.String()),
      event_digest: Nullable(Type.String()),
      input_digest: Nullable(Type.String()),
      output_digest: Nullable(Type.String()),
      bundle_id: Nullable(Type.String()),
      attestation_id: Nullable(Type.String()),
      checks: Type.Object({ event_digest: Check, input_matches_previous: Check, bundle: Type.Union([Check, Type.Null()]), attestation: Type.Union([Check, Type.Null()]) }),
      verified: Type.Boolean(),
    }),
  ),
});

export function custodyRoutes(app: ServiceApp, deps: { custody: CustodyService }): void {
  app.get(
    '/custody/:resource_type/:resource_id',
    {
      schema: {
        operationId: 'getCustodyChain',
        summary: 'Chain of custody: source fetch → SBOM compute → policy eval → advisory link → export, verified',
        tags: ['custody'],
        params: Type.Object(
          { resource_type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' }), resource_id: SafeId({ minLength: 1, maxLength: 512 }) },
          { additionalProperties: false },
        ),
        response: { 200: described("The resource's custody steps, each with its checks, and whether the chain is complete and verified", Chain) },
        'x-error-codes': ['custody.not_found'],
      },
    },
    async (request) => deps.custody.chain(request.auth!.tenant, request.params.resource_type, request.params.resource_id),
  );
}
