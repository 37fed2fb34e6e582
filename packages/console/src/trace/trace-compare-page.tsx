/** Compare traces (being built). */
import type { Query } from '../routing/routes.js';

export function TraceComparePage(props: { query: Query }) {
  void props;
  return <h1>Compare traces</h1>;
}
