/**
 * Reads one API path for a page: loads it when the path, the tenant or `refreshKey` changes,
 * and again every `everyMs` while the tab is visible; keeps the last answer while reloading;
 * cancels what is no longer wanted. A 401 signs the user out with the service's reason.
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../api/api-client.js';
import { useConsole } from './console-context.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** When the shown answer arrived (ms). */
  loadedAt: number | undefined;
}

export function useApi<T>(path: string | undefined, options: { refreshKey?: unknown; everyMs?: number } = {}): Loaded<T> {
  const { client, onUnauthorized } = useConsole();
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: path !== undefined, loadedAt: undefined });
  const [tick, setTick] = useState(0);
  const { refreshKey, everyMs } = options;

  useEffect(() => {
    if (everyMs === undefined) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);

  useEffect(() => {
    if (path === undefined) {
      setState({ data: undefined, error: undefined, loading: false, loadedAt: undefined });
      return;
    }
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    client.get<T>(path, controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false, loadedAt: Date.now() });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError) {
          if (error.status === 401) onUnauthorized(error);
          setState({ data: undefined, error, loading: false, loadedAt: Date.now() });
        } else setState({ data: undefined, error: new ApiError(0, (error as Error).message, {}, ''), loading: false, loadedAt: Date.now() });
      },
    );
    return () => controller.abort();
  }, [client, path, refreshKey, tick, onUnauthorized]);

  return state;
}
