/** What is deprecated: a DataSet or a package, by namespace and name. */
export interface DeprecationSubject {
  readonly kind: 'dataset' | 'package';
  readonly namespace: string;
  readonly name: string;
}

/** A deprecation as stored, with whether its event went out and its optimistic-locking revision. */
export interface StoredDeprecation {
  readonly reason: string;
  readonly sunset: string;
  readonly deprecatedAt: string;
  readonly deprecatedBy: string;
  /** `DataSet Deprecated` / `Package Deprecated` was published for this reason and sunset. */
  readonly announced: boolean;
  readonly revision: number;
}

/** Deprecations of DataSets and packages (one item each; the registry's reads join them). */
export interface DeprecationStore {
  /** The subject's deprecation, strongly consistent. */
  get(subject: DeprecationSubject): Promise<StoredDeprecation | undefined>;
  /**
   * Writes the deprecation if its stored revision is still `expectedRevision` (0: must not exist); returns
   * it with its new revision. Throws ConcurrentModificationError otherwise.
   */
  put(
    subject: DeprecationSubject,
    deprecation: Omit<StoredDeprecation, 'revision'>,
    expectedRevision: number,
  ): Promise<StoredDeprecation>;
}
