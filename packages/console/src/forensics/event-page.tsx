/** Timeline event (being built). */
import type { Query } from '../routing/routes.js';

export function EventPage(props: { eventId: string; query: Query }) {
  void props;
  return <h1>Timeline event</h1>;
}
