/**
 * Progress of long work (downloads, uploads, verification) as one line on stderr, redrawn in
 * place — drawn only when stderr is a terminal, so logs, pipes and `--json` consumers never see
 * it. The line is `label [#####.....]  42% 12.3/29.0 MiB`, or `label 12.3 MiB` when the total is
 * not known.
 */
import { Transform } from 'node:stream';
import type { CliIO } from './output.js';

export interface Progress {
  /** Counts `n` more units (bytes) done. */
  add(n: number): void;
  /** Ends the line (draws it a last time). Further calls do nothing. */
  finish(): void;
}

const REDRAW_MS = 100;
const MIB = 1024 * 1024;
const NONE: Progress = { add: () => undefined, finish: () => undefined };

/** A progress line for `total` bytes (unknown when undefined or 0); a no-op unless stderr is a terminal. */
export function startProgress(io: CliIO, label: string, total?: number): Progress {
  if (!io.stderrIsTTY) return NONE;
  const columns = io.stderrColumns && io.stderrColumns > 20 ? io.stderrColumns : 80;
  let done = 0;
  let last = -Infinity;
  let finished = false;
  const draw = (): void => {
    const mib = (n: number): string => (n / MIB).toFixed(1);
    let line: string;
    if (total && total > 0) {
      const fraction = Math.min(1, done / total);
      const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(total)} MiB`;
      const width = Math.max(10, Math.min(30, columns - label.length - tail.length - 4));
      const filled = Math.round(fraction * width);
      line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`;
    } else {
      line = `${label} ${mib(done)} MiB`;
    }
    // Carriage return, the line, then erase whatever a longer earlier line left to its right.
    io.stderr(`\r${line.slice(0, columns - 1)}\x1b[K`);
  };
  return {
    add(n) {
      if (finished) return;
      done += n;
      const now = performance.now();
      if (now - last < REDRAW_MS) return;
      last = now;
      draw();
    },
    finish() {
      if (finished) return;
      finished = true;
      draw();
      io.stderr('\n');
    },
  };
}

/** A pass-through stream that counts the bytes going through it. */
export function meter(progress: Progress): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      progress.add(chunk.length);
      callback(null, chunk);
    },
  });
}

/** The same chunks, counted as they are taken. */
export async function* metered<T extends Uint8Array>(source: AsyncIterable<T>, progress: Progress): AsyncGenerator<T> {
  for await (const chunk of source) {
    progress.add(chunk.length);
    yield chunk;
  }
}
