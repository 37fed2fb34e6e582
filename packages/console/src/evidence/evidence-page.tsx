/** Evidence (being built). */
import type { Query } from '../routing/routes.js';

export function EvidencePage(props: { query: Query }) {
  void props;
  return <h1>Evidence</h1>;
}
