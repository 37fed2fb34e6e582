// Entry of an OTLP prepare worker thread when the service runs from its TypeScript sources (tsx,
// vitest): a worker thread starts as plain Node, so it registers tsx's loader before importing the
// TypeScript worker named in workerData. The compiled service (dist/) starts its compiled
// prepare-worker.js directly and never loads this file or tsx.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
