/**
 * The stored-record schemas of cells, deployments, promotions and runs, built on first use: they extend the
 * API contracts, whose construction is most of what those contracts cost, and many functions hold a store
 * for the few requests that read it (ADR 0012).
 */
export const recordSchemas = (() => {
  let loaded: Promise<typeof import('./deployment-records.js')> | undefined;
  return () => {
    loaded ??= import('./deployment-records.js');
    return loaded;
  };
})();
