/** Create snapshot (being built). */
import type { Query } from '../routing/routes.js';

export function SnapshotWizard(props: { query: Query }) {
  void props;
  return <h1>Create snapshot</h1>;
}
