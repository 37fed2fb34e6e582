/**
 * Chain of custody (SPEC TL-5): source fetch → SBOM compute → policy eval → advisory link →
 * export for one resource. Each step is a timeline event whose `details.custody` names the step,
 * its input and output digests and, optionally, the evidence bundle and attestation it produced;
 * a step belongs to the chain of `<resource_type>/<resource_id>` when it is about that resource
 * or names it in `details.custody.subject`. The chain verifies when every event's digest
 * recomputes, each step's input digest equals the previous step's output digest, and every
 * referenced bundle and attestation verifies.
 */
import { timelineEventDigest, type TimelineEvent } from '@stellaops/telemetry-core';
import type { AttestationService } from '../attest/attestation-service.js';
import { ServiceError } from '../errors.js';
import type { EvidenceLocker } from '../evidence/evidence-locker.js';
import type { TimelineRepository } from '../timeline/timeline-repository.js';

export const CUSTODY_STEPS = ['source.fetch', 'sbom.compute', 'policy.eval', 'advisory.link', 'export'] as const;
export type CustodyStep = (typeof CUSTODY_STEPS)[number];

export interface CustodyCheck {
  ok: boolean;
  message?: string;
}

export interface CustodyLink {
  step: CustodyStep;
  present: boolean;
  event_id: string | null;
  kind: string | null;
  ts: string | null;
  trace_id: string | null;
  event_digest: string | null;
  input_digest: string | null;
  output_digest: string | null;
  bundle_id: string | null;
  attestation_id: string | null;
  checks: { event_digest: CustodyCheck; input_matches_previous: CustodyCheck; bundle: CustodyCheck | null; attestation: CustodyCheck | null };
  verified: boolean;
}

export interface CustodyChain {
  resource_type: string;
  resource_id: string;
  steps: CustodyLink[];
  complete: boolean;
  verified: boolean;
  problems: string[];
}

interface CustodyDetails {
  step?: unknown;
  input_digest?: unknown;
  output_digest?: unknown;
  bundle_id?: unknown;
  attestation_id?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export class CustodyService {
  constructor(
    private readonly timeline: Pick<TimelineRepository, 'custodyEvents'>,
    private readonly locker: Pick<EvidenceLocker, 'verifyStored'>,
    private readonly attestations: Pick<AttestationService, 'read'>,
  ) {}

  async chain(tenant: string, resourceType: string, resourceId: string): Promise<CustodyChain> {
    const events = await this.timeline.custodyEvents(tenant, resourceType, resourceId);
    // The latest event of each step stands for it (a retried step supersedes the earlier try).
    const byStep = new Map<CustodyStep, TimelineEvent>();
    for (const e of events) {
      const step = (e.details['custody'] as CustodyDetails | undefined)?.step;
      if (typeof step === 'string' && (CUSTODY_STEPS as readonly string[]).includes(step)) byStep.set(step as CustodyStep, e);
    }
    if (byStep.size === 0) {
      throw new ServiceError('custody.not_found', `no chain-of-custody steps recorded for ${resourceType}/${resourceId} in this tenant`, { field: 'params.resource_id' });
    }
    const steps: CustodyLink[] = [];
    const problems: string[] = [];
    let previousOutput: string | null = null;
    let previousStep: CustodyStep | null = null;
    for (const step of CUSTODY_STEPS) {
      const e = byStep.get(step);
      if (!e) {
        steps.push({
          step,
          present: false,
          event_id: null,
          kind: null,
          ts: null,
          trace_id: null,
          event_digest: null,
          input_digest: null,
          output_digest: null,
          bundle_id: null,
          attestation_id: null,
          checks: { event_digest: { ok: false, message: 'step not recorded' }, input_matches_previous: { ok: false, message: 'step not recorded' }, bundle: null, attestation: null },
          verified: false,
        });
        problems.push(`${step}: not recorded`);
        continue;
      }
      const c = (e.details['custody'] ?? {}) as CustodyDetails;
      const input = str(c.input_digest);
      const output = str(c.output_digest);
      const bundleId = str(c.bundle_id);
      const attestationId = str(c.attestation_id);
      const recomputed = timelineEventDigest(e);
      const eventDigest: CustodyCheck = recomputed === e.digest ? { ok: true } : { ok: false, message: `event digest ${e.digest} does not match its content (${recomputed})` };
      let link: CustodyCheck;
      if (previousStep === null) link = { ok: true, message: 'first step of the chain' };
      else if (!input) link = { ok: false, message: `no input_digest to link to ${previousStep}` };
      else if (input !== previousOutput) link = { ok: false, message: `input ${input} differs from the output of ${previousStep} (${previousOutput ?? 'none'})` };
      else link = { ok: true };
      let bundle: CustodyCheck | null = null;
      if (bundleId) {
        try {
          const { verification } = await this.locker.verifyStored(tenant, bundleId);
          bundle = verification.ok ? { ok: true } : { ok: false, message: verification.failures.map((f) => f.message).join('; ') };
        } catch (error) {
          bundle = { ok: false, message: (error as Error).message };
        }
      }
      let attestation: CustodyCheck | null = null;
      if (attestationId) {
        try {
          const read = await this.attestations.read(tenant, attestationId);
          attestation = read.verification.ok ? { ok: true } : { ok: false, message: read.verification.failures.map((f) => f.message).join('; ') };
        } catch (error) {
          attestation = { ok: false, message: (error as Error).message };
        }
      }
      const verified = eventDigest.ok && link.ok && (bundle?.ok ?? true) && (attestation?.ok ?? true) && output !== null;
      for (const [name, check] of [['event', eventDigest], ['link', link], ['bundle', bundle], ['attestation', attestation]] as const) {
        if (check && !check.ok) problems.push(`${step} ${name}: ${check.message}`);
      }
      if (!output) problems.push(`${step}: no output_digest`);
      steps.push({
        step,
        present: true,
        event_id: e.event_id,
        kind: e.kind,
        ts: e.ts,
        trace_id: e.trace_id,
        event_digest: e.digest,
        input_digest: input,
        output_digest: output,
        bundle_id: bundleId,
        attestation_id: attestationId,
        checks: { event_digest: eventDigest, input_matches_previous: link, bundle, attestation },
        verified,
      });
      previousOutput = output;
      previousStep = step;
    }
    const complete = steps.every((s) => s.present);
    return { resource_type: resourceType, resource_id: resourceId, steps, complete, verified: complete && steps.every((s) => s.verified), problems };
  }
}
