import { DynamoDeploymentStore } from '../../adapters/dynamodb/deployment-store.js';
import { DynamoRegistry } from '../../adapters/dynamodb/registry-store.js';
import type { DeploymentRepository } from '../../ports/deployment-store.js';
import type { PackageReader } from '../../ports/package-repository.js';
import type { SharedDependencies } from './shared.js';

export interface PackageDependencies {
  /** The registry's reads: packages, versions, DataSets, the pipeline, registrations. */
  readonly packages: PackageReader;
  /** What is deployed where (the deployed pipeline of a cell). */
  readonly deployments: Pick<DeploymentRepository, 'listDeploymentsOfEnvironment'>;
}

/** Adds the registry's reads and the deployments, from the table. */
export function withPackages<D extends SharedDependencies>(deps: D): D & PackageDependencies {
  return {
    ...deps,
    packages: new DynamoRegistry(deps.table, {
      registrationRetentionDays: deps.config.REGISTRATION_RETENTION_DAYS,
    }),
    deployments: new DynamoDeploymentStore(deps.table),
  };
}
