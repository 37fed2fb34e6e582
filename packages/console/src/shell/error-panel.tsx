/** An API refusal as the service explained it: its message, and for a 403 the scope and tenant that would allow the request. */
import type { ApiError } from '../api/api-client.js';

function titleOf(status: number): string {
  if (status === 0) return 'No answer from the service';
  if (status === 401) return 'Sign-in needed';
  if (status === 403) return 'Access denied';
  if (status === 404) return 'Not found';
  if (status === 429 || status === 503) return 'The service is busy';
  if (status >= 400 && status < 500) return 'The service refused the request';
  return 'The service failed';
}

export function ErrorPanel({ error, what }: { error: ApiError; what?: string }) {
  const { required_scope: scope, tenant } = error.answer;
  return (
    <div className="error-panel" role="alert">
      <h3>
        {titleOf(error.status)}
        {what ? ` — ${what}` : ''}
      </h3>
      <p className="explanation">{error.message}</p>
      {scope ? (
        <p>
          This needs the scope <code>{scope}</code>
          {tenant ? (
            <>
              {' '}
              on tenant <code>{tenant}</code>
            </>
          ) : null}
          . Sign in with a token that grants it (on an embedded install: <code>stella auth token --scope {scope}</code>).
        </p>
      ) : null}
      <p className="muted">
        {error.code ? <code>{error.code}</code> : null}
        {error.status ? ` HTTP ${error.status}` : ''}
        {error.traceId ? (
          <>
            {' '}
            · trace id <code>{error.traceId}</code>
          </>
        ) : null}
      </p>
    </div>
  );
}
