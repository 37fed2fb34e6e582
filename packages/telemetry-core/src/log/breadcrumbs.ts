/**
 * Debug breadcrumbs: while a tenant or service is in incident mode, debug lines are written
 * even when the logger's level is higher. The sampling layer installs the predicate.
 */
export type BreadcrumbPredicate = (scope: { tenantId?: string; service: string }) => boolean;

let predicate: BreadcrumbPredicate | undefined;

/** Installs (or, with `undefined`, removes) the predicate that turns breadcrumbs on. */
export function setBreadcrumbPredicate(fn: BreadcrumbPredicate | undefined): void {
  predicate = fn;
}

export function breadcrumbsEnabled(tenantId: string | undefined, service: string): boolean {
  if (!predicate) return false;
  try {
    return predicate({ tenantId, service });
  } catch {
    return false;
  }
}
