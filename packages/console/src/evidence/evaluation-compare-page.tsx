/** Compare evaluations (being built). */
import type { Query } from '../routing/routes.js';

export function EvaluationComparePage(props: { query: Query }) {
  void props;
  return <h1>Compare evaluations</h1>;
}
