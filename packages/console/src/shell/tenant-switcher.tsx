/**
 * The tenant the Console shows: a choice among the token's tenants only. A token with
 * platform-wide scopes grants every tenant, so its holder names one (checked against the
 * tenant-id rule; the service decides what it may read).
 */
import { useId, useState, type FormEvent } from 'react';
import type { WhoAmI } from '../api/api-types.js';
import { isTenantId, tenantChoices } from '../session/session.js';

export function TenantSwitcher({ who, tenant, onChange }: { who: WhoAmI; tenant: string | undefined; onChange(tenant: string): void }) {
  const id = useId();
  const { tenants, anyTenant } = tenantChoices(who);
  const [typed, setTyped] = useState(tenant ?? '');
  const [problem, setProblem] = useState<string>();

  if (!anyTenant) {
    if (tenants.length === 0) return <p className="tenant muted">This token names no tenant.</p>;
    return (
      <div className="tenant">
        <label htmlFor={`${id}-tenant`}>Tenant</label>
        <select id={`${id}-tenant`} value={tenant ?? ''} onChange={(event) => onChange(event.target.value)}>
          {tenants.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
    );
  }

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const value = typed.trim();
    if (!isTenantId(value)) {
      setProblem('A tenant id is 1-64 letters, digits, "_" or "-".');
      return;
    }
    setProblem(undefined);
    onChange(value);
  };
  return (
    <form className="tenant" onSubmit={submit}>
      <label htmlFor={`${id}-tenant`}>Tenant</label>
      <input
        id={`${id}-tenant`}
        list={`${id}-tenants`}
        value={typed}
        onChange={(event) => setTyped(event.target.value)}
        autoComplete="off"
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      <datalist id={`${id}-tenants`}>
        {tenants.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
      <button type="submit">Switch</button>
      {problem ? (
        <span id={`${id}-problem`} className="field-problem" role="alert">
          {problem}
        </span>
      ) : null}
    </form>
  );
}
