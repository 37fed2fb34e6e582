/** Trace search (being built). */
import type { Query } from '../routing/routes.js';

export function TraceSearchPage(props: { query: Query }) {
  void props;
  return <h1>Trace search</h1>;
}
