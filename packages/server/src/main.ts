/**
 * `npm start`: resolves the configuration from flags, environment and an optional file,
 * starts the service and shuts it down gracefully on SIGINT/SIGTERM.
 */
import { ConfigError, configHelp, resolveConfig } from './config.js';
import { installProcessGuards } from './process-guards.js';
import { createService } from './service.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(configHelp());
    return;
  }
  let config;
  try {
    config = resolveConfig(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stella-observability: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const service = await createService({ config });
  installProcessGuards({ logger: service.logger, shutdown: () => service.close(), defects: service.self.metrics.processDefects });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ details: { signal } }, 'shutting down: draining requests and the bus');
    // A second signal, or a drain that hangs, must still end the process.
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await service.listen();
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  process.stderr.write(`stella-observability failed to start${code ? ` (${code})` : ''}: ${(error as Error).message}\n`);
  process.exit(1);
});
