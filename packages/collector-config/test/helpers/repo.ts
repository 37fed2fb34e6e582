import { fileURLToPath } from 'node:url';

/** The repository root (packages/collector-config/test/helpers → four levels up). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
