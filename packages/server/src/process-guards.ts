/**
 * The last resort, made explicit. Every background loop of the service catches, counts and
 * carries on; a promise rejection that still reaches the process is a defect, logged with
 * its stack and counted, and the service keeps serving (the work it belonged to has its own
 * retry: the index catches up from the segments, the bus redelivers). An uncaught exception
 * leaves state unknown: it is logged as fatal, the service shuts down gracefully (acknowledged
 * data is already durable), and the process exits 1 so a supervisor restarts it.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { CounterPoint } from './self/service-metrics.js';

export interface ProcessGuardOptions {
  logger: Logger;
  /** Graceful shutdown used after an uncaught exception. */
  shutdown: () => Promise<void>;
  /** Longest the shutdown may take before the process exits anyway, in ms. Default 10000. */
  shutdownTimeoutMs?: number;
  exit?: (code: number) => void;
  /** `stella_process_defects_total{kind}` (the service's own metrics). Default: not counted. */
  defects?: CounterPoint;
}

export function installProcessGuards(options: ProcessGuardOptions): () => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const defects: CounterPoint = options.defects ?? { add: () => undefined };
  let dying = false;
  const onRejection = (reason: unknown): void => {
    defects.add(1, { kind: 'unhandled_rejection' });
    logger.error({ err: reason, details: { defect: 'unhandled_rejection' } }, 'unhandled promise rejection (a defect); the service keeps running');
  };
  const onException = (error: Error, origin: string): void => {
    defects.add(1, { kind: 'uncaught_exception' });
    logger.fatal({ err: error, details: { defect: 'uncaught_exception', origin } }, 'uncaught exception: shutting down gracefully, then exiting 1');
    if (dying) return;
    dying = true;
    const force = setTimeout(() => exit(1), options.shutdownTimeoutMs ?? 10_000);
    force.unref();
    options.shutdown().then(
      () => exit(1),
      () => exit(1),
    );
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
