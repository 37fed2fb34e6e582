/**
 * Head sampling (CORE-5): parent-based, trace-id ratio for new traces, with incident mode
 * forcing 100% for the affected tenant or service. Spans the ratio drops are still
 * *recorded* (decision RECORD, sampled flag off) when the tail buffer is on, so an error or
 * a slow root can still keep the trace; they are never exported unless the tail buffer
 * promotes them.
 */
import { trace, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { currentFields } from '../context/context.js';
import type { IncidentModeRegistry } from './incident-mode.js';

export interface HeadSamplerOptions {
  /** Service this process runs as (incident scope). */
  service: string;
  /** Fraction of new traces sampled at the head, 0..1. Default 0.1. */
  ratio?: number;
  /** Record head-dropped spans so the tail buffer can keep errors and slow roots. Default true. */
  tail?: boolean;
  incidents: IncidentModeRegistry;
}

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const INCIDENT: SamplingResult = Object.freeze({
  decision: SamplingDecision.RECORD_AND_SAMPLED,
  attributes: Object.freeze({ 'stella.sampling.reason': 'incident' }),
});
const RECORD_ONLY: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD });
const DROP: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

export class StellaHeadSampler implements Sampler {
  private readonly ratioSampler: TraceIdRatioBasedSampler;
  private readonly unsampled: SamplingResult;
  readonly ratio: number;

  constructor(private readonly options: HeadSamplerOptions) {
    const ratio = options.ratio ?? 0.1;
    if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`sampling ratio must be within 0..1, got ${String(ratio)}`);
    this.ratio = ratio;
    this.ratioSampler = new TraceIdRatioBasedSampler(ratio);
    this.unsampled = options.tail === false ? DROP : RECORD_ONLY;
  }

  shouldSample(ctx: Context, traceId: string, _spanName?: string, _kind?: SpanKind, _attributes?: Attributes, _links?: Link[]): SamplingResult {
    const incidents = this.options.incidents;
    if (incidents.anyActive && incidents.isActive(currentFields(ctx).tenant_id, this.options.service)) return INCIDENT;
    const parent = trace.getSpanContext(ctx);
    if (parent && trace.isSpanContextValid(parent)) {
      return (parent.traceFlags & 1) === 1 ? SAMPLED : this.unsampled;
    }
    const decision = this.ratioSampler.shouldSample(ctx, traceId).decision;
    return decision === SamplingDecision.RECORD_AND_SAMPLED ? SAMPLED : this.unsampled;
  }

  toString(): string {
    return `StellaHeadSampler{ratio=${this.ratio},tail=${this.options.tail !== false}}`;
  }
}
