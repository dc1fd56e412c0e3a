import { DynamoDeploymentStore } from '../../adapters/dynamodb/deployment-store.js';
import { DynamoDeprecationStore } from '../../adapters/dynamodb/deprecation-store.js';
import { openLineageGraph } from '../../adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../../adapters/dynamodb/registry-store.js';
import { type Deprecations, makeDeprecations } from '../../domain/governance/deprecate.js';
import {
  type GovernanceInputSource,
  makeGovernanceInputs,
} from '../../domain/governance/governance-inputs.js';
import { type GovernanceReporter, makeGovernanceReport } from '../../domain/governance/governance-report.js';
import { environmentsOf } from '../../domain/promotions/environments.js';
import type { EventDependencies } from './events.js';
import type { SharedDependencies } from './shared.js';

export interface GovernanceDependencies {
  /** The governance report (`GET /v1/governance/report`). */
  readonly governanceReport: GovernanceReporter;
  /** What the report reads: the PII gate of a promotion reads the same (`piiViolationsFor`). */
  readonly governanceInputs: GovernanceInputSource;
  /** Deprecations of DataSets and packages, announced on the bus. */
  readonly deprecations: Deprecations;
}

/** Adds the governance use cases: the report (registry, deployments, lineage graph) and deprecations. */
export function withGovernance<D extends SharedDependencies & EventDependencies>(
  deps: D,
): D & GovernanceDependencies {
  const packages = new DynamoRegistry(deps.table, {
    registrationRetentionDays: deps.config.REGISTRATION_RETENTION_DAYS,
  });
  const deployments = new DynamoDeploymentStore(deps.table);
  const governanceInputs = makeGovernanceInputs({
    packages,
    deployments,
    environments: environmentsOf(deps.config.ENVIRONMENTS).names(),
    lineageGraph: () => openLineageGraph(deps.table),
  });
  return {
    ...deps,
    governanceInputs,
    governanceReport: makeGovernanceReport({ inputs: governanceInputs, clock: deps.clock }),
    deprecations: makeDeprecations({
      packages,
      deprecations: new DynamoDeprecationStore(deps.table),
      deployments,
      events: deps.events,
      clock: deps.clock,
    }),
  };
}
