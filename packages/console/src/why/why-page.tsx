/** Why is this red? (being built). */
import type { Query } from '../routing/routes.js';

export function WhyPage(props: { query: Query }) {
  void props;
  return <h1>Why is this red?</h1>;
}
