/** Evidence bundle (being built). */
import type { Query } from '../routing/routes.js';

export function BundlePage(props: { bundleId: string; query: Query }) {
  void props;
  return <h1>Evidence bundle</h1>;
}
