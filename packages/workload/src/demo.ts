/**
 * `npm run demo`: the StellaOps reference workload end to end on one machine.
 *   --keep-running   leave the service and the workload up afterwards (Ctrl-C stops them)
 *   --data-dir <d>   use (and keep) this data directory instead of a fresh temporary one
 * Exits 0 when every step and verification passed, 1 otherwise.
 */
import { terminateChildren } from './demo/processes.js';
import { runDemo } from './demo/run-demo.js';
import { renderSummary } from './demo/summary.js';

const argv = process.argv.slice(2);
const keepRunning = argv.includes('--keep-running');
const dirAt = argv.indexOf('--data-dir');
const dataDir = dirAt >= 0 ? argv[dirAt + 1] : undefined;
const unknown = argv.filter((a, i) => a !== '--keep-running' && a !== '--data-dir' && !(dirAt >= 0 && i === dirAt + 1));
if (unknown.length > 0 || (dirAt >= 0 && !dataDir)) {
  process.stderr.write(`usage: npm run demo -- [--keep-running] [--data-dir <dir>]\n`);
  process.exit(2);
}

// Interrupted (Ctrl-C, a CI timeout): the service and the workload go down with the driver.
const interrupted = (signal: NodeJS.Signals): void => {
  process.stderr.write(`\n${signal}: stopping the service and the workload\n`);
  terminateChildren();
  process.exit(130);
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
process.once('exit', terminateChildren);

process.stdout.write('StellaOps Observability & Forensics — reference workload demo\n\n');
const result = await runDemo({ keepRunning, dataDir, progress: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write(`\n${renderSummary(result)}\n`);
if (keepRunning && result.stack) {
  const stack = result.stack;
  process.stdout.write(`\nStill running (--keep-running). Press Ctrl-C to stop.\n`);
  const stop = (): void => {
    stack.stop().then(
      () => process.exit(result.ok ? 0 : 1),
      (error: unknown) => {
        process.stderr.write(`stopping the demo's processes failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  process.exit(result.ok ? 0 : 1);
}
