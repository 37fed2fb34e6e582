import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/index.js';
import { LINE_BUFFER_DELAY_MS } from '../../src/log/line-buffer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'line-buffer-'));
  dirs.push(dir);
  return join(dir, 'out.log');
}

const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('log lines to a file descriptor', () => {
  it('batches info lines, writes a warning at once with what waited before it, in order', () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    try {
      const logger = createLogger({ service: 'buffered', destination: fd });
      logger.info('first');
      logger.info('second');
      expect(readFileSync(file, 'utf8')).toBe(''); // one write later, not one per line
      logger.warn('third');
      expect(lines(file).map((l) => l['msg'])).toEqual(['first', 'second', 'third']);
      logger.info('fourth');
      logger.flush();
      expect(lines(file).map((l) => l['msg'])).toEqual(['first', 'second', 'third', 'fourth']);
    } finally {
      closeSync(fd);
    }
  });

  it('writes waiting lines by itself shortly after', async () => {
    const file = tempFile();
    const fd = openSync(file, 'w');
    try {
      const logger = createLogger({ service: 'buffered', destination: fd });
      logger.info('later');
      // Poll the file rather than sleeping a fixed time; the bound is generous for a loaded machine.
      const deadline = Date.now() + 100 * LINE_BUFFER_DELAY_MS;
      while (readFileSync(file, 'utf8') === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, LINE_BUFFER_DELAY_MS));
      expect(lines(file).map((l) => l['msg'])).toEqual(['later']);
    } finally {
      closeSync(fd);
    }
  });

  it('loses nothing when the process exits right after logging', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { createLogger } = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
         const logger = createLogger({ service: 'exiting' });
         for (let i = 0; i < 500; i++) logger.info({ details: { i } }, 'line');
         process.exit(0);`,
      ],
      { encoding: 'utf8' },
    );
    const got = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { details: { i: number } });
    expect(got).toHaveLength(500);
    expect(got.map((l) => l.details.i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
