#!/usr/bin/env node
// The `stella` bin. Installed from the package (no sources beside it), and in this repository
// unless told otherwise, it runs the compiled CLI in dist/ — no TypeScript is compiled at start.
// With the `@stellaops/source` condition on (the tests and `npm run demo` set it in
// NODE_OPTIONS), or before the first build, it runs the CLI from its TypeScript sources through
// tsx, with the workspace packages resolved to their sources too.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/bin/stella.js', import.meta.url);
const sources = new URL('../src/bin/stella.ts', import.meta.url);
const sourceCondition = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('@stellaops/source'));

if (existsSync(sources) && (sourceCondition || !existsSync(compiled))) {
  const { register } = await import('node:module');
  const { register: registerTsx } = await import('tsx/esm/api');
  register('./source-conditions.mjs', import.meta.url);
  registerTsx();
  await import(sources.href);
} else {
  await import(compiled.href);
}
