/**
 * Exporters that hand each batch to a function as the bytes of an OTLP/protobuf export request
 * (`ExportTraceServiceRequest`, `ExportLogsServiceRequest`, `ExportMetricsServiceRequest`) —
 * what an OTLP/HTTP exporter would send, without the network. A receiver in the same process
 * takes them through its usual decode-validate-store path; the Observability & Forensics
 * service stores its own traces and logs this way. They plug into `exporters` of
 * `initTelemetry`/`createTelemetry`, so batching, scrubbing, back-off and failure accounting
 * stay the pipeline's. A rejected `send` is a failed export; nothing is thrown.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TelemetrySignal } from './telemetry-stats.js';

/** Takes one encoded export request; resolves once it is accepted (stored), rejects to fail the export. */
export type OtlpRequestSink = (signal: TelemetrySignal, body: Uint8Array) => Promise<void>;

export interface OtlpRequestExporters {
  spans: SpanExporter;
  logs: LogRecordExporter;
  metrics: PushMetricExporter;
}

function deliver(sink: OtlpRequestSink, signal: TelemetrySignal, encode: () => Uint8Array | undefined, done: (result: ExportResult) => void): void {
  let body: Uint8Array | undefined;
  try {
    body = encode();
  } catch (error) {
    done({ code: ExportResultCode.FAILED, error: error as Error });
    return;
  }
  if (!body) {
    done({ code: ExportResultCode.FAILED, error: new Error(`the ${signal} batch could not be encoded as an OTLP request`) });
    return;
  }
  let sent: Promise<void>;
  try {
    sent = sink(signal, body);
  } catch (error) {
    done({ code: ExportResultCode.FAILED, error: error as Error });
    return;
  }
  sent.then(
    () => done({ code: ExportResultCode.SUCCESS }),
    (error: unknown) => done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
  );
}

/** One exporter per signal, each encoding its batch as an OTLP/protobuf request for `sink`. */
export function otlpRequestExporters(sink: OtlpRequestSink): OtlpRequestExporters {
  const quiet = async (): Promise<void> => {};
  return {
    spans: {
      export: (spans: ReadableSpan[], done) => deliver(sink, 'traces', () => ProtobufTraceSerializer.serializeRequest(spans), done),
      shutdown: quiet,
      forceFlush: quiet,
    },
    logs: {
      export: (records: ReadableLogRecord[], done) => deliver(sink, 'logs', () => ProtobufLogsSerializer.serializeRequest(records), done),
      shutdown: quiet,
      forceFlush: quiet,
    },
    metrics: {
      export: (metrics: ResourceMetrics, done) => deliver(sink, 'metrics', () => ProtobufMetricsSerializer.serializeRequest(metrics), done),
      selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
      shutdown: quiet,
      forceFlush: quiet,
    },
  };
}
