/** The support footer (CON-4): the last API call and its trace id, to quote in a support case. */
import { useState } from 'react';
import type { ApiCall } from '../api/api-client.js';

export function SupportFooter({ lastCall }: { lastCall: ApiCall | undefined }) {
  const [copied, setCopied] = useState<string>();
  const copy = (traceId: string): void => {
    navigator.clipboard.writeText(traceId).then(
      () => setCopied('Copied.'),
      () => setCopied('Select the id and copy it.'),
    );
  };
  return (
    <footer className="support">
      {lastCall ? (
        <p>
          Support: last API call <code>{`${lastCall.method} ${lastCall.path.split('?')[0]}`}</code> → {lastCall.status ?? 'no answer'} at{' '}
          {new Date(lastCall.at).toLocaleTimeString(undefined, { hour12: false })}, trace id{' '}
          <code className="trace-id" data-testid="last-trace-id">
            {lastCall.traceId}
          </code>{' '}
          <button type="button" className="small" onClick={() => copy(lastCall.traceId)}>
            Copy trace id
          </button>{' '}
          <span role="status">{copied}</span>
        </p>
      ) : (
        <p>Support: no API call yet.</p>
      )}
      <p className="muted">Every API call sends its own trace id; each one is also written to the browser console.</p>
    </footer>
  );
}
