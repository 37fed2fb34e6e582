/**
 * The Console: sign-in, then the pages of the selected tenant — the Observability Hub, trace
 * search and traces, log search, and the Forensics Explorer (timeline, evidence, attestations) —
 * under a header with navigation, the Trace ID lookup, the tenant switcher and the
 * user, and a support footer with the last API call's trace id. Landmarks: banner, navigation,
 * search, main, contentinfo; a skip link leads to the main content, which takes focus after
 * each navigation.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, createApiClient, type ApiCall } from './api/api-client.js';
import type { WhoAmI } from './api/api-types.js';
import { AttestationsPage } from './attest/attestations-page.js';
import { BundlePage } from './evidence/bundle-page.js';
import { EvaluationComparePage } from './evidence/evaluation-compare-page.js';
import { EvidencePage } from './evidence/evidence-page.js';
import { SnapshotWizard } from './evidence/snapshot-wizard.js';
import { EventPage } from './forensics/event-page.js';
import { TimelinePage } from './forensics/timeline-page.js';
import { HubPage } from './hub/hub-page.js';
import { LogsPage } from './logs/logs-page.js';
import type { Route } from './routing/routes.js';
import { useRoute } from './routing/use-route.js';
import { chooseTenant, expiresInMs, SessionStore } from './session/session.js';
import { ConsoleContext, type ConsoleContextValue } from './shell/console-context.js';
import { Link } from './shell/link.js';
import { SignIn } from './shell/sign-in.js';
import { SupportFooter } from './shell/support-footer.js';
import { TenantSwitcher } from './shell/tenant-switcher.js';
import { TraceLookup } from './shell/trace-lookup.js';
import { TraceComparePage } from './trace/trace-compare-page.js';
import { TracePage } from './trace/trace-page.js';
import { TraceSearchPage } from './trace/trace-search-page.js';
import { WhyPage } from './why/why-page.js';

/** setTimeout takes at most 2^31 − 1 ms; a later expiry is caught by the first 401 instead. */
const MAX_TIMER_MS = 2_147_483_647;

function titleOf(route: Route): string {
  switch (route.page) {
    case 'hub':
      return 'Observability Hub';
    case 'trace':
      return `Trace ${route.traceId.slice(0, 8)}`;
    case 'traces':
      return 'Trace search';
    case 'trace-compare':
      return 'Compare traces';
    case 'why':
      return 'Why is this red?';
    case 'logs':
      return 'Log search';
    case 'timeline':
      return 'Timeline';
    case 'event':
      return 'Timeline event';
    case 'evidence':
      return 'Evidence';
    case 'bundle':
      return `Bundle ${route.bundleId.slice(0, 12)}`;
    case 'snapshot':
      return 'Create snapshot';
    case 'evaluation-compare':
      return 'Compare evaluations';
    case 'attestations':
      return 'Verify an attestation';
    case 'not_found':
      return 'Not found';
  }
}

function Page({ route, navigate }: { route: Route; navigate(route: Route): void }) {
  switch (route.page) {
    case 'hub':
      return <HubPage />;
    case 'trace':
      return <TracePage key={route.traceId} traceId={route.traceId} query={route.query} />;
    case 'traces':
      return <TraceSearchPage query={route.query} />;
    case 'trace-compare':
      return <TraceComparePage query={route.query} />;
    case 'why':
      return <WhyPage query={route.query} />;
    case 'logs':
      return <LogsPage search={route.search} />;
    case 'timeline':
      return <TimelinePage query={route.query} />;
    case 'event':
      return <EventPage key={route.eventId} eventId={route.eventId} query={route.query} />;
    case 'evidence':
      return <EvidencePage query={route.query} />;
    case 'bundle':
      return <BundlePage key={route.bundleId} bundleId={route.bundleId} query={route.query} />;
    case 'snapshot':
      return <SnapshotWizard query={route.query} />;
    case 'evaluation-compare':
      return <EvaluationComparePage query={route.query} />;
    case 'attestations':
      return <AttestationsPage query={route.query} />;
    case 'not_found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            The Console has no page <code>{route.path}</code>.{' '}
            <Link to={{ page: 'hub' }} navigate={navigate}>
              Go to the Observability Hub
            </Link>
            .
          </p>
        </>
      );
  }
}

export function App() {
  const session = useMemo(() => new SessionStore(window.sessionStorage), []);
  const [token, setToken] = useState<string | undefined>(() => session.token());
  const [who, setWho] = useState<WhoAmI>();
  const [tenant, setTenant] = useState<string>();
  const [problem, setProblem] = useState<ApiError | string>();
  const [lastCall, setLastCall] = useState<ApiCall>();
  const [route, navigate] = useRoute();

  const signOut = useCallback(
    (reason: ApiError | string) => {
      session.signOut();
      setToken(undefined);
      setWho(undefined);
      setProblem(reason);
    },
    [session],
  );

  /** Asks the service what the token grants; keeps it only when the service accepts it. */
  const verify = useCallback(
    async (candidate: string) => {
      const answer = await createApiClient({ token: candidate, onCall: setLastCall }).get<WhoAmI>('/auth/whoami');
      session.signIn(candidate);
      const chosen = chooseTenant(answer, session.tenant());
      session.selectTenant(chosen);
      setTenant(chosen);
      setWho(answer);
      setToken(candidate);
      setProblem(undefined);
    },
    [session],
  );

  const signIn = useCallback(
    async (candidate: string) => {
      try {
        await verify(candidate);
      } catch (error) {
        setProblem(error instanceof ApiError ? error : String(error));
      }
    },
    [verify],
  );

  // A tab reloaded while signed in checks its token again.
  const checkedStored = useRef(false);
  useEffect(() => {
    if (checkedStored.current) return;
    checkedStored.current = true;
    const stored = session.token();
    if (stored) verify(stored).catch((error: unknown) => signOut(error instanceof ApiError ? error : String(error)));
  }, [session, verify, signOut]);

  useEffect(() => {
    if (!who) return;
    const ms = expiresInMs(who, Date.now());
    if (ms > MAX_TIMER_MS) return;
    const timer = window.setTimeout(() => signOut('Your token has expired. Sign in with a new one.'), Math.max(ms, 0));
    return () => window.clearTimeout(timer);
  }, [who, signOut]);

  const mainRef = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);
  useEffect(() => {
    document.title = `${titleOf(route)} · StellaOps Console`;
    if (firstRoute.current) firstRoute.current = false;
    else mainRef.current?.focus();
  }, [route]);

  const onUnauthorized = useCallback((error: ApiError) => signOut(error), [signOut]);
  const context = useMemo<ConsoleContextValue | undefined>(
    () => (token && who ? { client: createApiClient({ token, tenant, onCall: setLastCall }), tenant, who, navigate, onUnauthorized } : undefined),
    [token, who, tenant, navigate, onUnauthorized],
  );
  const selectTenant = (next: string): void => {
    session.selectTenant(next);
    setTenant(next);
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">StellaOps Console</span>
        {context ? (
          <>
            <nav aria-label="Console">
              <ul>
                <li>
                  <Link to={{ page: 'hub' }} navigate={navigate} current={route.page === 'hub'}>
                    Observability Hub
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'traces', query: {} }} navigate={navigate} current={route.page === 'traces' || route.page === 'trace' || route.page === 'trace-compare'}>
                    Traces
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'logs', search: {} }} navigate={navigate} current={route.page === 'logs'}>
                    Log search
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'timeline', query: {} }} navigate={navigate} current={route.page === 'timeline' || route.page === 'event'}>
                    Timeline
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'evidence', query: {} }} navigate={navigate} current={route.page === 'evidence' || route.page === 'bundle' || route.page === 'snapshot' || route.page === 'evaluation-compare'}>
                    Evidence
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'attestations', query: {} }} navigate={navigate} current={route.page === 'attestations'}>
                    Attestations
                  </Link>
                </li>
              </ul>
            </nav>
            <TraceLookup navigate={navigate} />
            <TenantSwitcher who={context.who} tenant={tenant} onChange={selectTenant} />
            <div className="user">
              <span>
                Signed in as <strong>{context.who.subject}</strong>
              </span>{' '}
              <button type="button" className="small" onClick={() => signOut('You signed out.')}>
                Sign out
              </button>
            </div>
          </>
        ) : null}
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {context ? (
          <ConsoleContext.Provider value={context}>
            {tenant ? <Page key={tenant} route={route} navigate={navigate} /> : <p>Choose a tenant above to see its telemetry.</p>}
          </ConsoleContext.Provider>
        ) : token && !problem ? (
          <p role="status">Checking your token with the service…</p>
        ) : (
          <SignIn onSignIn={signIn} problem={problem} />
        )}
      </main>
      <SupportFooter lastCall={lastCall} />
    </>
  );
}
