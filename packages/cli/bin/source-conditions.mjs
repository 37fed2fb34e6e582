// Module resolution hook of the development launcher: resolves the workspace packages to their
// TypeScript sources (the `@stellaops/source` export condition) instead of their built dist/.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, '@stellaops/source'] });
}
