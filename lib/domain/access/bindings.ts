import type { RoleBinding } from '../../contracts/api/access.js';
import type { BindingsStore, StoredBindings } from '../../ports/bindings-store.js';

/** A namespace's bindings before and after a change. */
export interface BindingsChange {
  readonly before: StoredBindings;
  readonly after: StoredBindings;
}

/** Namespace role bindings (ADR 0018): read them, or replace them all. */
export function makeNamespaceBindings(deps: { readonly store: BindingsStore; readonly clock: () => Date }) {
  return {
    get: (namespace: string): Promise<StoredBindings> => deps.store.get(namespace),

    /**
     * Replaces every binding of `namespace` as `by`. With `expectedRevision` (the one the caller read) a
     * change made since is refused (CONCURRENT_MODIFICATION); without it, the current revision is taken.
     */
    async replace(
      namespace: string,
      bindings: readonly RoleBinding[],
      by: string,
      expectedRevision: number | undefined,
    ): Promise<BindingsChange> {
      const before = await deps.store.get(namespace);
      const after = await deps.store.put(
        namespace,
        bindings,
        by,
        deps.clock().toISOString(),
        expectedRevision ?? before.revision,
      );
      return { before, after };
    },
  };
}
