import { createHash } from 'node:crypto';
import { SecretMissingError, type SecretStore, type StoreSecretRef } from '../../ports/secret-store.js';

const handlePrefix = 'local-secret:';

/**
 * Store secrets in embedded mode: `${VAR}` resolves from the control plane's own environment at run time
 * (ADR 0006). Derived secrets (a DSN holding a password) stay in this process's memory, and a task gets
 * only a handle (`local-secret:…`) that the local runner resolves when it starts the process.
 */
export class EnvironmentSecretStore implements SecretStore {
  private readonly derived = new Map<string, string>();

  constructor(private readonly environment: Readonly<Record<string, string | undefined>> = process.env) {}

  async ensureStoreSecret(_ref: StoreSecretRef): Promise<string | undefined> {
    return undefined;
  }

  async resolve(ref: StoreSecretRef, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const values = new Map<string, string>();
    const missing: string[] = [];
    for (const name of names) {
      const value = this.environment[name];
      if (value === undefined) missing.push(name);
      else values.set(name, value);
    }
    if (missing.length > 0) throw new SecretMissingError(ref, missing);
    return values;
  }

  async putDerived(ref: StoreSecretRef, key: string, value: string): Promise<string> {
    // The handle names the store and a hash of the value, never the value.
    const digest = createHash('sha256').update(value).digest('hex').slice(0, 16);
    const handle = `${handlePrefix}${ref.cell}/${ref.store}/${key}#${digest}`;
    this.derived.set(handle, value);
    return handle;
  }

  /** The value behind a handle this store issued (the local runner's `resolveSecret`). */
  async resolveHandle(handle: string): Promise<string> {
    const value = this.derived.get(handle);
    if (value === undefined) throw new Error(`unknown secret handle ${handle.split('#')[0] ?? ''}`);
    return value;
  }
}
