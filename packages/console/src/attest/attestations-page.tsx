/** Verify an attestation (being built). */
import type { Query } from '../routing/routes.js';

export function AttestationsPage(props: { query: Query }) {
  void props;
  return <h1>Verify an attestation</h1>;
}
