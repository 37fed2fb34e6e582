import { Writable } from 'node:stream';

/** A destination that collects NDJSON lines for assertions. */
export function captureStream(): { stream: Writable & { write(line: string): boolean }; lines: () => Record<string, unknown>[]; raw: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  // pino writes synchronously through `write(string)`.
  const write = (line: string): boolean => {
    chunks.push(line);
    return true;
  };
  Object.assign(stream, { write });
  const raw = (): string[] => chunks.join('').split('\n').filter((l) => l.length > 0);
  return {
    stream: stream as Writable & { write(line: string): boolean },
    raw,
    lines: () => raw().map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
