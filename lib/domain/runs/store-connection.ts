import type { StoreManifest } from '../../contracts/manifests/store.js';

/**
 * How a Store's connection reaches a Transform, exactly as the seed builds it (RUNTIME.md):
 * `DK_STORE_DSN_<NAME>` and `DK_STORE_TYPE_<NAME>`, `<NAME>` the store name upper-cased with `-` and `.`
 * turned into `_`, the DSN per connector after `${VAR}` interpolation.
 */

const secretReference = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `pg-warehouse` → `PG_WAREHOUSE`. */
export function storeVariableSuffix(store: string): string {
  return store.toUpperCase().replace(/[-.]/g, '_');
}

export const dsnVariable = (store: string): string => `DK_STORE_DSN_${storeVariableSuffix(store)}`;
export const typeVariable = (store: string): string => `DK_STORE_TYPE_${storeVariableSuffix(store)}`;

/** Every `${VAR}` a Store references, in its connection values and its secrets, sorted and unique. */
export function secretNamesOf(store: StoreManifest): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string')
      for (const match of value.matchAll(secretReference)) names.add(match[1] ?? '');
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(store.spec.connection);
  visit(store.spec.secrets ?? {});
  names.delete('');
  return [...names].sort();
}

/** A DSN and whether building it used a secret value (then it is a secret too). */
export interface StoreDsn {
  readonly dsn: string;
  readonly connector: string;
  readonly containsSecret: boolean;
}

/**
 * Builds a Store's DSN with its `${VAR}` values (`values` must hold every name `secretNamesOf` lists).
 * Connection values that are not strings are used as their JSON text.
 */
export function buildDsn(store: StoreManifest, values: ReadonlyMap<string, string>): StoreDsn {
  let containsSecret = false;
  const interpolate = (raw: unknown): string | undefined => {
    if (raw === undefined || raw === null) return undefined;
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return text.replace(secretReference, (_whole, name: string) => {
      containsSecret = true;
      return values.get(name) ?? '';
    });
  };
  const connection = store.spec.connection;
  const secrets = store.spec.secrets ?? {};
  const fromConnection = (...keys: string[]): string | undefined => {
    for (const key of keys) {
      const value = interpolate(connection[key]);
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };
  // Secrets first, as the seed does for the password; then the connection map.
  const lookup = (...keys: string[]): string | undefined => {
    for (const key of keys) {
      const value = interpolate(secrets[key]);
      if (value !== undefined && value !== '') return value;
    }
    return fromConnection(...keys);
  };
  const connector = store.spec.connector;
  const explicit = lookup('connection_string');
  const dsn =
    explicit ??
    (() => {
      switch (connector.toLowerCase()) {
        case 'postgres':
        case 'postgresql': {
          const user = encodeURIComponent(lookup('user', 'username') ?? '');
          const password = encodeURIComponent(lookup('password') ?? '');
          const host = lookup('host') ?? 'localhost';
          const port = lookup('port') ?? '5432';
          const database = lookup('dbname', 'database') ?? '';
          const sslmode = lookup('sslmode') ?? 'disable';
          return `postgresql://${user}:${password}@${host}:${port}/${database}?sslmode=${sslmode}`;
        }
        case 's3': {
          const query = new URLSearchParams();
          const region = lookup('region');
          const endpoint = lookup('endpoint');
          if (region !== undefined) query.set('region', region);
          if (endpoint !== undefined) query.set('endpoint', endpoint);
          const suffix = query.size === 0 ? '' : `?${query.toString()}`;
          return `s3://${lookup('bucket') ?? ''}${suffix}`;
        }
        case 'kafka':
          return `kafka://${lookup('bootstrapServers', 'brokers') ?? 'localhost:9092'}/${lookup('topic') ?? ''}`;
        default: {
          const query = Object.keys(connection)
            .sort()
            .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(fromConnection(key) ?? '')}`)
            .join('&');
          return `${connector}:?${query}`;
        }
      }
    })();
  return { dsn, connector, containsSecret };
}
