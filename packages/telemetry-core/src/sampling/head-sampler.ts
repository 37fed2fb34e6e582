/**
 * Head sampling (CORE-5): parent-based, trace-id ratio for new traces, with incident mode
 * forcing 100% for the affected tenant or service. Spans the ratio drops are not recorded by
 * the SDK; with tail sampling on, the tail tracer keeps them as cheap candidates so an error or
 * a slow root can still keep the trace (see tail-tracer.ts).
 */
import { createContextKey, ROOT_CONTEXT, trace, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { currentFields } from '../context/context.js';
import type { IncidentModeRegistry } from './incident-mode.js';

export interface HeadSamplerOptions {
  /** Service this process runs as (incident scope). */
  service: string;
  /** Fraction of new traces sampled at the head, 0..1. Default 0.1. */
  ratio?: number;
  incidents: IncidentModeRegistry;
}

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const INCIDENT: SamplingResult = Object.freeze({
  decision: SamplingDecision.RECORD_AND_SAMPLED,
  attributes: Object.freeze({ 'stella.sampling.reason': 'incident' }),
});
const DROP: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/**
 * Marks a context whose new trace the tail tracer already decided to sample (it draws the
 * head decision itself, before the SDK mints the trace id the span will carry).
 */
export const HEAD_SAMPLED_KEY = createContextKey('stellaops.telemetry.head_sampled');

export class StellaHeadSampler implements Sampler {
  private readonly ratioSampler: TraceIdRatioBasedSampler;
  readonly ratio: number;

  constructor(private readonly options: HeadSamplerOptions) {
    const ratio = options.ratio ?? 0.1;
    if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`sampling ratio must be within 0..1, got ${String(ratio)}`);
    this.ratio = ratio;
    this.ratioSampler = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(ctx: Context, traceId: string, _spanName?: string, _kind?: SpanKind, _attributes?: Attributes, _links?: Link[]): SamplingResult {
    const incidents = this.options.incidents;
    if (incidents.anyActive && incidents.isActive(currentFields(ctx).tenant_id, this.options.service)) return INCIDENT;
    if (ctx.getValue(HEAD_SAMPLED_KEY) === true) return SAMPLED;
    const parent = trace.getSpanContext(ctx);
    if (parent && trace.isSpanContextValid(parent)) {
      return (parent.traceFlags & 1) === 1 ? SAMPLED : DROP;
    }
    const decision = this.ratioSampler.shouldSample(ctx, traceId).decision;
    return decision === SamplingDecision.RECORD_AND_SAMPLED ? SAMPLED : DROP;
  }

  /** Whether this process is in incident mode for the tenant of `ctx` (everything is then sampled). */
  incidentFor(ctx: Context): boolean {
    const incidents = this.options.incidents;
    return incidents.anyActive && incidents.isActive(currentFields(ctx).tenant_id, this.options.service);
  }

  /** The ratio decision for a new trace with this id. */
  sampleNewTrace(traceId: string): boolean {
    return this.ratioSampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  toString(): string {
    return `StellaHeadSampler{ratio=${this.ratio}}`;
  }
}
