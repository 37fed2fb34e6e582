/**
 * Sign-in: paste an access token; the service checks it (`GET /auth/whoami`) before it is kept.
 * The field has no `name` and the form posts nowhere, so the token can never end up in a URL.
 */
import { useId, useState, type FormEvent } from 'react';
import type { ApiError } from '../api/api-client.js';
import { readTokenInput } from '../session/session.js';
import { ErrorPanel } from './error-panel.js';

export function SignIn({ onSignIn, problem }: { onSignIn(token: string): Promise<void>; problem: ApiError | string | undefined }) {
  const [text, setText] = useState('');
  const [inputProblem, setInputProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const id = useId();

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const input = readTokenInput(text);
    if (!input.ok) {
      setInputProblem(input.problem);
      return;
    }
    setInputProblem(undefined);
    setBusy(true);
    try {
      await onSignIn(input.token);
      setText('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="sign-in" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Sign in to the StellaOps Console</h1>
      <form method="post" action="#" onSubmit={(event) => void submit(event)} noValidate>
        <label htmlFor={`${id}-token`}>Access token</label>
        <textarea
          id={`${id}-token`}
          rows={5}
          value={text}
          onChange={(event) => setText(event.target.value)}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          aria-invalid={inputProblem ? true : undefined}
          aria-describedby={`${id}-help${inputProblem ? ` ${id}-problem` : ''}`}
        />
        {inputProblem ? (
          <p id={`${id}-problem`} className="field-problem" role="alert">
            {inputProblem}
          </p>
        ) : null}
        <p id={`${id}-help`} className="help">
          Paste a bearer token from StellaOps Authority. On an embedded install, mint one on the service&apos;s machine:{' '}
          <code>npx stella auth token --data-dir &lt;service data dir&gt; --tenant &lt;tenant&gt; --scope obs:read --ttl 8h</code>. The token stays in this tab
          (session storage) and is sent only to this service.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {typeof problem === 'string' ? (
        <p className="notice" role="status">
          {problem}
        </p>
      ) : problem ? (
        <ErrorPanel error={problem} what="the token was not accepted" />
      ) : null}
    </section>
  );
}
