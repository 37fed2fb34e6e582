/**
 * Signed Collector profiles over HTTP (COL-3). `GET /telemetry/config/profile/{name}` answers a
 * profile bundle: the Collector YAML rendered with the service's options (sealed mode when the
 * installation is sealed) and a DSSE envelope over it, signed with the key that signs the
 * tenant's evidence — the platform key unless per-tenant keys are on — so the key ring of
 * `GET /evidence/keyring` (`stella forensic keyring export`) verifies it offline.
 */
import { PROFILE_NAMES, renderProfile, signProfile, type ProfileName, type RenderedProfile } from '@stellaops/collector-config';
import { Type } from 'typebox';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import { SafeId } from '../http/safe-schema.js';
import { KeyManagerError, type KeyManager } from '../keys/key-manager.js';
import type { ServiceApp } from '../service-feature.js';

export const ProfileParams = Type.Object({ name: SafeId({ maxLength: 64, description: 'the profile: default, forensic or airgap' }) });

export const ProfileBundleResponse = Type.Object({
  name: Type.String({ description: 'the profile' }),
  profile_digest: Type.String({ description: 'sha256:<hex> of `yaml`' }),
  collector: Type.Object({ distribution: Type.String(), version: Type.String() }, { description: 'the Collector distribution the profile is pinned to' }),
  sealed: Type.Boolean({ description: 'whether the profile allows loopback and file exporters only' }),
  key_id: Type.String({ description: 'the key that signed the envelope (in the key ring of GET /evidence/keyring)' }),
  yaml: Type.String({ description: 'the Collector configuration file, byte for byte what the envelope signs' }),
  envelope: Type.Object(
    {
      payload: Type.String({ description: 'base64 of `yaml`' }),
      payloadType: Type.Literal('application/vnd.stellaops.collector-profile+yaml'),
      signatures: Type.Array(Type.Object({ keyid: Type.String(), sig: Type.String() })),
    },
    { description: 'DSSE envelope over `yaml`' },
  ),
});

export interface ProfilesRouteDeps {
  config: Pick<ServiceConfig, 'sealed'>;
  keys: KeyManager;
}

export function profilesRoutes(app: ServiceApp, deps: ProfilesRouteDeps): void {
  // Rendering is deterministic and the options are fixed for the service's life: once per profile.
  const rendered = new Map<ProfileName, RenderedProfile>();
  const render = (name: ProfileName): RenderedProfile => {
    let r = rendered.get(name);
    if (!r) {
      r = renderProfile(name, deps.config.sealed ? { sealed: true } : {});
      rendered.set(name, r);
    }
    return r;
  };

  app.get(
    '/telemetry/config/profile/:name',
    {
      schema: {
        operationId: 'getCollectorProfile',
        summary: 'A Collector profile rendered with the service options, with a DSSE signature by the key that signs the tenant evidence',
        tags: ['telemetry'],
        params: ProfileParams,
        response: { 200: described('The signed profile bundle (what `stella telemetry deploy` verifies and writes)', ProfileBundleResponse) },
        'x-error-codes': ['profile.not_found', 'evidence.keys_unavailable'],
      },
    },
    async (request) => {
      const name = request.params.name;
      if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
        throw new ServiceError('profile.not_found', `no Collector profile is named "${name}"; the profiles are ${PROFILE_NAMES.join(', ')}`, {
          field: 'params.name',
          extra: { allowed: { profiles: [...PROFILE_NAMES] } },
        });
      }
      const profile = render(name as ProfileName);
      const active = await deps.keys.activeKey(request.auth!.tenant).catch((error: unknown) => {
        throw error instanceof KeyManagerError ? new ServiceError('evidence.keys_unavailable', 'the signing key is unavailable; see the service log', { cause: error }) : error;
      });
      const bundle = await signProfile(profile, active.signer);
      return {
        name: bundle.name,
        profile_digest: bundle.profile_digest,
        collector: bundle.collector,
        sealed: profile.model.sealed,
        key_id: active.signer.keyId,
        yaml: bundle.yaml,
        envelope: {
          payload: bundle.envelope.payload,
          payloadType: 'application/vnd.stellaops.collector-profile+yaml' as const,
          signatures: bundle.envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
        },
      };
    },
  );
}
