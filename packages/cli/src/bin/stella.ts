#!/usr/bin/env node
// The `stella` executable: compiled to dist/bin/stella.js, which is the package's bin.
import { createProgram } from '../program.js';

const { run } = createProgram({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  stderrIsTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  ...(process.stderr.columns ? { stderrColumns: process.stderr.columns } : {}),
});
process.exitCode = await run(process.argv.slice(2));
