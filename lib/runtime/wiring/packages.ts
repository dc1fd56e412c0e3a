import { DynamoRegistry } from '../../adapters/dynamodb/registry-store.js';
import type { PackageReader } from '../../ports/package-repository.js';
import type { SharedDependencies } from './shared.js';

export interface PackageDependencies {
  /** The registry's reads: packages, versions, DataSets, the pipeline, registrations. */
  readonly packages: PackageReader;
}

/** Adds the registry's reads, from the table. */
export function withPackages<D extends SharedDependencies>(deps: D): D & PackageDependencies {
  return { ...deps, packages: new DynamoRegistry(deps.table) };
}
