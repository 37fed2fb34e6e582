/** Runs background work under a tenant and actor, so the timeline events it builds name them. */
import { withContext } from '@stellaops/telemetry-core';

export function runAs<T>(tenant: string, actor: string, fn: () => Promise<T>): Promise<T> {
  return withContext({ tenant_id: tenant, actor }, fn);
}
