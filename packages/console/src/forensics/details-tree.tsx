/** An event's `details` as a readable tree: keys and values, nested objects and lists indented under their key. */
import './forensics.css';

function Value({ value }: { value: unknown }) {
  if (value === null) return <span className="muted">null</span>;
  if (typeof value === 'string') return /^sha256:[0-9a-f]{16,}$/.test(value) ? <code>{value}</code> : <span className="tree-string">{value}</span>;
  if (typeof value === 'number' || typeof value === 'boolean') return <span className="tree-scalar">{String(value)}</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">[] (empty list)</span>;
    return (
      <ol className="tree-list" start={0}>
        {value.map((item, i) => (
          <li key={i}>
            <Value value={item} />
          </li>
        ))}
      </ol>
    );
  }
  if (typeof value === 'object') return <DetailsTree details={value as Record<string, unknown>} />;
  return <span>{String(value)}</span>;
}

export function DetailsTree({ details, label }: { details: Record<string, unknown>; label?: string }) {
  const entries = Object.entries(details);
  if (entries.length === 0) return <span className="muted">{'{}'} (no fields)</span>;
  return (
    <dl className="details-tree" aria-label={label}>
      {entries.map(([key, value]) => (
        <div key={key} className="tree-entry">
          <dt>{key}</dt>
          <dd>
            <Value value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
