/**
 * Regenerates the shipped dashboards:
 *
 *   npm run generate:dashboards -w @stellaops/collector-config
 *
 * writes deploy/dashboards/<uid>.json. A test regenerates them and compares bytes, so a change
 * to a dashboard spec without regenerating fails.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeDashboards } from './index.js';

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: generate <dashboards directory>');
    process.exit(2);
  }
  writeDashboards(dir).then(
    (paths) => console.log(`wrote ${paths.join(', ')}`),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
