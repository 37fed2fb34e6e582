/** In-memory records partitioned by tenant: a lookup for another tenant's id finds nothing. */
export class TenantStore<T> {
  private readonly byTenant = new Map<string, Map<string, T>>();

  set(tenant: string, id: string, value: T): void {
    let m = this.byTenant.get(tenant);
    if (!m) this.byTenant.set(tenant, (m = new Map()));
    m.set(id, value);
  }

  get(tenant: string, id: string): T | undefined {
    return this.byTenant.get(tenant)?.get(id);
  }

  values(tenant: string): T[] {
    return [...(this.byTenant.get(tenant)?.values() ?? [])];
  }
}
