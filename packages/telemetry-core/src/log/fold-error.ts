/**
 * Error folding (CORE-1): an Error becomes a concise `error_code` and `error_message` (first
 * line only, scrubbed, at most 256 characters) plus `details.stack` (scrubbed, at most 8 KiB,
 * with the `cause` chain), so stacks and multi-line messages never spill across log lines.
 */
import { scrubText, type CompiledScrubPolicy } from '../scrub/index.js';

export const ERROR_MESSAGE_MAX = 256;
export const STACK_MAX_BYTES = 8 * 1024;

export interface FoldedError {
  error_code: string;
  error_message: string;
  details: { stack: string };
}

function codeOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.length > 0 && code.length <= 128) return code;
  if (typeof code === 'number') return String(code);
  return err.name || 'Error';
}

function firstLine(text: string): string {
  const nl = text.search(/\r?\n/);
  return nl === -1 ? text : text.slice(0, nl);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '\n…[truncated]';
  let cut = Buffer.from(text).subarray(0, maxBytes - Buffer.byteLength(marker)).toString('utf8');
  // A cut inside a multi-byte character leaves a replacement character; drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + marker;
}

/** An Error, including one from another realm (duck-typed on `message` and `stack`). */
export function isError(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { message?: unknown; stack?: unknown };
  return typeof v.message === 'string' && typeof v.stack === 'string';
}

export function foldError(err: Error, policy?: CompiledScrubPolicy): FoldedError {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  let depth = 0;
  while (current !== undefined && current !== null && !seen.has(current) && depth < 8) {
    seen.add(current);
    if (isError(current)) {
      const text = current.stack ?? `${current.name}: ${current.message}`;
      parts.push(depth === 0 ? text : `Caused by: ${text}`);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(`Caused by: ${String(current)}`);
      break;
    }
    depth += 1;
  }
  return {
    error_code: codeOf(err),
    error_message: truncate(scrubText(firstLine(err.message || err.name || 'Error'), policy), ERROR_MESSAGE_MAX),
    details: { stack: truncateBytes(scrubText(parts.join('\n'), policy), STACK_MAX_BYTES) },
  };
}
