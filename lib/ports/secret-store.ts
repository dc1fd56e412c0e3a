/** Identifies the secret of one Store in one cell. */
export interface StoreSecretRef {
  readonly cell: string;
  readonly store: string;
  /** AWS: the secret's ARN as recorded with the Store. */
  readonly secretArn?: string | undefined;
}

/**
 * Where Store secrets live: one Secrets Manager secret per cell and Store in AWS (a JSON object keyed by
 * `${VAR}` name), the control plane's own environment in embedded mode (ADR 0006). Values leave this port
 * only towards a task: never into a record, a response, an event or a log line.
 */
export interface SecretStore {
  /** Creates the (empty) secret of a Store if it does not exist; returns its ARN, if the store has one. */
  ensureStoreSecret(ref: StoreSecretRef): Promise<string | undefined>;
  /** The values of the named variables; a missing one is reported by name, never guessed. */
  resolve(ref: StoreSecretRef, names: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /**
   * Keeps a derived secret value (a DSN holding passwords) where a task can read it by reference, and
   * returns that reference (a task definition's `secrets[].valueFrom`).
   */
  putDerived(ref: StoreSecretRef, key: string, value: string): Promise<string>;
}

/** A `${VAR}` the Store references has no value where secrets are kept. */
export class SecretMissingError extends Error {
  constructor(
    readonly ref: StoreSecretRef,
    readonly names: readonly string[],
  ) {
    super(`store ${ref.store} of cell ${ref.cell} has no value for ${names.join(', ')}`);
    this.name = 'SecretMissingError';
  }
}
