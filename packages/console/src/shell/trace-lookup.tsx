/** "Trace ID": open one trace directly — a trace id, or a whole `traceparent` (the one a user copied from a support footer or a log line). */
import { useId, useState, type FormEvent } from 'react';
import { traceIdInput } from '../api/traceparent.js';
import type { Route } from '../routing/routes.js';

export function TraceLookup({ navigate }: { navigate(route: Route): void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const traceId = traceIdInput(text);
    if (!traceId) {
      setProblem('A trace id is 32 hexadecimal characters (or paste a whole traceparent).');
      return;
    }
    setProblem(undefined);
    navigate({ page: 'trace', traceId, query: {} });
  };
  return (
    <form role="search" aria-label="Trace lookup" className="trace-lookup" onSubmit={submit}>
      <label htmlFor={`${id}-trace`}>Trace ID</label>
      <input
        id={`${id}-trace`}
        value={text}
        onChange={(event) => setText(event.target.value)}
        placeholder="32 hex characters"
        autoComplete="off"
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      <button type="submit">Open trace</button>
      {problem ? (
        <span id={`${id}-problem`} className="field-problem" role="alert">
          {problem}
        </span>
      ) : null}
    </form>
  );
}
