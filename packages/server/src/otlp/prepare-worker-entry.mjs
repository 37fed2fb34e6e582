// Entry of an OTLP prepare worker thread. The service runs from TypeScript sources (tsx in
// production, vitest in tests); a worker thread starts as plain Node, so it registers tsx's
// loader before importing the TypeScript worker named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
