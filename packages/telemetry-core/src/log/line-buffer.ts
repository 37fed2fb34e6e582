/**
 * Log lines for a file descriptor (stdout by default), written in batches.
 *
 * One synchronous write per line costs a system call per log line, which on a busy service is
 * the largest part of what logging costs. Lines are instead collected and written together:
 * at most 20 ms after the first of them, as soon as 64 KiB are waiting, and at once for
 * warnings and errors (the logger asks for that), so an error line is on its way before the
 * call returns. Whatever is still waiting when the process exits is written by an exit hook;
 * a process killed outright loses at most the info lines of its last 20 ms.
 * Writing goes through pino's synchronous destination, which retries on EAGAIN.
 */
import { pino, type DestinationStream } from 'pino';

/** Buffered lines beyond this many characters are written immediately. */
const MAX_BUFFERED = 64 * 1024;
/** Longest a line waits. */
export const LINE_BUFFER_DELAY_MS = 20;

const waiting = new Set<LineBuffer>();
let exitHooked = false;

function flushWaiting(): void {
  for (const buffer of waiting) buffer.flush();
}

export class LineBuffer implements DestinationStream {
  private chunks: string[] = [];
  private size = 0;
  private readonly out: DestinationStream & { flushSync?: () => void };
  private readonly flushTask = (): void => this.flush();

  constructor(fd: number) {
    this.out = pino.destination({ dest: fd, sync: true });
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', flushWaiting);
    }
  }

  write(line: string): void {
    this.chunks.push(line);
    this.size += line.length;
    if (this.size >= MAX_BUFFERED) {
      this.flush();
    } else if (this.chunks.length === 1) {
      waiting.add(this);
      setTimeout(this.flushTask, LINE_BUFFER_DELAY_MS).unref();
    }
  }

  /** Writes every waiting line now. */
  flush(): void {
    if (this.size === 0) return;
    const text = this.chunks.length === 1 ? (this.chunks[0] as string) : this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    waiting.delete(this);
    try {
      this.out.write(text);
    } catch {
      // A closed or broken stdout must never fail the code that logged.
    }
  }
}
