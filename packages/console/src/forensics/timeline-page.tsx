/** Timeline (being built). */
import type { Query } from '../routing/routes.js';

export function TimelinePage(props: { query: Query }) {
  void props;
  return <h1>Timeline</h1>;
}
