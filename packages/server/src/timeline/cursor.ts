/**
 * Opaque page cursors: the (ts, event_id) of the last event served, base64url JSON. Pages are
 * keyset-paginated newest first, so a cursor stays valid while new events arrive.
 */
import { isUuid } from '@stellaops/telemetry-core';
import { ServiceError } from '../errors.js';

export interface TimelineCursor {
  ts: string;
  event_id: string;
}

export function encodeCursor(cursor: TimelineCursor): string {
  return Buffer.from(JSON.stringify([cursor.ts, cursor.event_id])).toString('base64url');
}

export function decodeCursor(raw: string): TimelineCursor {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      const ts = new Date(parsed[0]);
      if (!Number.isNaN(ts.getTime()) && isUuid(parsed[1])) return { ts: ts.toISOString(), event_id: parsed[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new ServiceError('timeline.cursor_invalid', 'cursor is not one this service issued; pass next_cursor from the previous page unchanged', { field: 'query.cursor' });
}
