/** What every page of a signed-in Console shares: the API client of the selected tenant, the token's grants, navigation. */
import { createContext, useContext } from 'react';
import type { ApiClient, ApiError } from '../api/api-client.js';
import type { WhoAmI } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';

export interface ConsoleContextValue {
  client: ApiClient;
  tenant: string | undefined;
  who: WhoAmI;
  navigate(route: Route): void;
  /** A call answered 401: the token is no longer good. */
  onUnauthorized(error: ApiError): void;
}

export const ConsoleContext = createContext<ConsoleContextValue | undefined>(undefined);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('useConsole outside a signed-in Console');
  return value;
}
