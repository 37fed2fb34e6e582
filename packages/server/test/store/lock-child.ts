/**
 * A process that races for the data-dir lock: prints `ready`, waits for `go` on stdin, tries
 * `acquireDataDirLock(argv[2])`, prints `acquired` or `locked <code>`, and holds the lock until
 * stdin ends (so a loser can never acquire after the winner released).
 */
import { createInterface } from 'node:readline';
import { acquireDataDirLock, type DataDirLock } from '../../src/store/data-dir-lock.js';

const lockPath = process.argv[2]!;
const lines = createInterface({ input: process.stdin });
let lock: DataDirLock | undefined;
lines.on('line', (line) => {
  if (line !== 'go') return;
  try {
    lock = acquireDataDirLock(lockPath);
    process.stdout.write('acquired\n');
  } catch (error) {
    process.stdout.write(`locked ${(error as { code?: string }).code ?? 'unknown'}\n`);
  }
});
lines.on('close', () => {
  lock?.release();
  process.exit(0);
});
process.stdout.write('ready\n');
