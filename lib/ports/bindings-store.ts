import type { RoleBinding } from '../contracts/api/access.js';

/** The bindings of one namespace as stored; `revision` 0 when none were ever written. */
export interface StoredBindings {
  readonly namespace: string;
  readonly bindings: readonly RoleBinding[];
  readonly revision: number;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** Namespace role bindings (one item per namespace, optimistic locking). */
export interface BindingsStore {
  /** The namespace's bindings; an empty set at revision 0 when it has none. */
  get(namespace: string): Promise<StoredBindings>;
  /**
   * Replaces the namespace's bindings if they are still at `expectedRevision` (else
   * ConcurrentModificationError); returns what was written.
   */
  put(
    namespace: string,
    bindings: readonly RoleBinding[],
    by: string,
    at: string,
    expectedRevision: number,
  ): Promise<StoredBindings>;
  /** Whether any namespace has bindings (embedded mode's `auto` enforcement starts with the first). */
  anyBindings(): Promise<boolean>;
}

/** The namespace a resource addressed by id belongs to (the access check of `/v1/runs/{id}` and the like). */
export interface NamespaceLookup {
  /** The package namespace of a DataKit run, or undefined when there is no such run. */
  ofRun(runId: string): Promise<string | undefined>;
  /** The package namespace of a promotion, or undefined when there is no such promotion. */
  ofPromotion(id: string): Promise<string | undefined>;
}
