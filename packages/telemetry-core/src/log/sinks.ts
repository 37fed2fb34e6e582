/**
 * Extra consumers of finished log lines (for example the OTLP log exporter and the error-log
 * spill of the export pipeline). A sink must never throw into the logging call; failures are
 * swallowed here so a broken exporter cannot fail a request.
 */
export interface LogSink {
  /** Lowest level number this sink wants (10 trace … 60 fatal). */
  readonly minLevel: number;
  write(line: string, level: number): void;
}

const sinks = new Set<LogSink>();
let lowest = Number.POSITIVE_INFINITY;

function recompute(): void {
  lowest = Number.POSITIVE_INFINITY;
  for (const s of sinks) lowest = Math.min(lowest, s.minLevel);
}

/** Adds a sink for every logger of this process; returns a function that removes it. */
export function addLogSink(sink: LogSink): () => void {
  sinks.add(sink);
  recompute();
  return () => {
    sinks.delete(sink);
    recompute();
  };
}

export function dispatchToSinks(line: string, level: number): void {
  if (level < lowest) return;
  for (const sink of sinks) {
    if (level < sink.minLevel) continue;
    try {
      sink.write(line, level);
    } catch {
      // A sink's failure is its own to count; it never reaches the caller.
    }
  }
}
