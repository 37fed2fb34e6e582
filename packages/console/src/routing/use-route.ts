/** The current page from the address bar, and navigation with the History API (no reload). */
import { useCallback, useEffect, useState } from 'react';
import { hrefOf, parseRoute, type Route } from './routes.js';

export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.pathname, window.location.search));
  useEffect(() => {
    const onPop = (): void => setRoute(parseRoute(window.location.pathname, window.location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: Route) => {
    const href = hrefOf(next);
    if (href !== window.location.pathname + window.location.search) window.history.pushState(null, '', href);
    setRoute(next);
  }, []);
  return [route, navigate];
}
