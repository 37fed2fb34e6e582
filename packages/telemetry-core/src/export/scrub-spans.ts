/**
 * Span attributes pass the same scrubber as log fields (CORE-2) — including spans opened by
 * third-party instrumentation. Scrubbing happens once per exported span, in the export
 * batch (off the request path), and never for spans that are not exported.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { scrubText, scrubValue, type CompiledScrubPolicy } from '../scrub/index.js';

type MutableAttributes = Record<string, unknown>;

function scrubAttributesInPlace(attrs: MutableAttributes | undefined, policy: CompiledScrubPolicy): void {
  if (!attrs) return;
  const scrubbed = scrubValue(attrs, policy) as MutableAttributes;
  for (const key of Object.keys(attrs)) attrs[key] = scrubbed[key];
}

export function scrubSpans(spans: readonly ReadableSpan[], policy: CompiledScrubPolicy): void {
  for (const span of spans) {
    try {
      scrubAttributesInPlace(span.attributes as MutableAttributes, policy);
      for (const ev of span.events) scrubAttributesInPlace(ev.attributes as MutableAttributes | undefined, policy);
      for (const link of span.links) scrubAttributesInPlace(link.attributes as MutableAttributes | undefined, policy);
      if (span.status.message) (span.status as { message?: string }).message = scrubText(span.status.message, policy);
    } catch {
      // One malformed span must not stop the batch; its attributes stay as recorded.
    }
  }
}
