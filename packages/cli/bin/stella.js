#!/usr/bin/env node
// Development launcher, not published: runs `stella` from the TypeScript sources through tsx, with
// the workspace packages resolved to their sources, so the repository needs no build to run it.
// The installed command is the compiled dist/bin/stella.js (the package's `bin`).
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./source-conditions.mjs', import.meta.url);
registerTsx();
await import('../src/bin/stella.ts');
