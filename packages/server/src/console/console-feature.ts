/**
 * The Console (packages/console): the service serves its built files at `/console`
 * (console-routes.ts) from `STELLA_CONSOLE_DIR`. It imports none of the Console's code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceFeature } from '../service-feature.js';
import { ConsoleAssets } from './console-assets.js';
import { consoleRoutes } from './console-routes.js';

export const consoleFeature: ServiceFeature = {
  name: 'console',
  create({ config, logger }) {
    const assets = new ConsoleAssets(config.consoleDir);
    return {
      routes: (app) => {
        if (!existsSync(join(config.consoleDir, 'index.html'))) {
          logger.warn({ details: { console_dir: config.consoleDir } }, 'the Console is not built: /console answers 503 until it is (npm run build)');
        }
        consoleRoutes(app, assets);
      },
    };
  },
};
