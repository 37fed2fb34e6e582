/** Why an SLO definition or a generation step was refused. */
export type SloErrorCode =
  /** The YAML does not parse, or a field has the wrong shape or value. */
  | 'slo.invalid'
  /** A valid OpenSLO field this generator does not implement (thresholdMetric, Timeslices, ...). */
  | 'slo.unsupported'
  /** Two SLOs share a `metadata.name`. */
  | 'slo.duplicate'
  /** A file or directory could not be read. */
  | 'slo.io'
  /** No promtool test can be built that tells the alert thresholds apart (selectors too broad). */
  | 'slo.untestable';

export interface SloErrorDetails {
  /** Field path inside the document, e.g. `spec.indicator.spec.thresholdMetric`. */
  path?: string;
  /** File (and document) the SLO came from, e.g. `deploy/slo/journeys.yaml#2`. */
  source?: string;
  /** 1-based line of the field in its file, when known. */
  line?: number;
  cause?: unknown;
}

/** Every refusal of the SLO tooling: a stable `code`, the field path and where it was read. */
export class SloError extends Error {
  override readonly name = 'SloError';
  readonly code: SloErrorCode;
  readonly path: string | undefined;
  readonly source: string | undefined;
  readonly line: number | undefined;

  constructor(code: SloErrorCode, message: string, details: SloErrorDetails = {}) {
    const where = [details.source, details.line !== undefined ? `line ${details.line}` : undefined].filter(Boolean).join(', ');
    super(where ? `${where}: ${message}` : message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.path = details.path;
    this.source = details.source;
    this.line = details.line;
  }
}
