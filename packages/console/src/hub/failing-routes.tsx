/** Top failing routes: the routes that answered errors, most errors first, each leading to the span behind its errors and to its service's error logs. */
import type { RoutesAnswer } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatMs, formatPercent } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { topFailing } from './top-failing.js';
import { routeWhy } from './why-links.js';
import './hub.css';

export function FailingRoutes({ routes, navigate }: { routes: RoutesAnswer; navigate(route: Route): void }) {
  const failing = topFailing(routes.series);
  if (failing.length === 0) {
    return <p className="empty">No route answered an error in the last hour ({routes.series.length} routes seen).</p>;
  }
  return (
    <table className="routes">
      <caption className="visually-hidden">Routes with the most errors in the last hour</caption>
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Route</th>
          <th scope="col">Requests</th>
          <th scope="col">Errors</th>
          <th scope="col">Error ratio</th>
          <th scope="col">p95</th>
          <th scope="col">
            <span className="visually-hidden">Links</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {failing.map((r) => (
          <tr key={`${r.service} ${r.route}`}>
            <td>{r.service}</td>
            <th scope="row">
              <code>{r.route}</code>
            </th>
            <td className="num">{r.requests}</td>
            <td className="num">{r.errors}</td>
            <td className="num">{formatPercent(r.error_ratio)}</td>
            <td className="num">{formatMs(r.p95_ms)}</td>
            <td className="route-links">
              <Link to={routeWhy(r)!} navigate={navigate} className="why-link">
                Why is this red?<span className="visually-hidden"> {r.service} {r.route} fails</span>
              </Link>{' '}
              <Link to={{ page: 'logs', search: { service: r.service, severity: 'ERROR', window: 60 } }} navigate={navigate}>
                Error logs<span className="visually-hidden"> of {r.service}</span>
              </Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
