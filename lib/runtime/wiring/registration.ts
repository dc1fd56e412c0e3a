import { randomUUID } from 'node:crypto';
import { ECRClient } from '@aws-sdk/client-ecr';
import { DynamoRegistry } from '../../adapters/dynamodb/registry-store.js';
import type { SingleTable } from '../../adapters/dynamodb/single-table.js';
import { ConnectionPolicy } from '../../adapters/oci/connection-policy.js';
import { DistributionClient } from '../../adapters/oci/distribution-client.js';
import { EcrCredentialProvider } from '../../adapters/oci/ecr-credentials.js';
import type { RegisterPackage } from '../../domain/registry/register-package.js';
import { parseRegistryAllowlist } from '../../domain/registry/registry-allowlist.js';
import type { ArtifactSource } from '../../ports/artifact-source.js';
import type { RegistryStore } from '../../ports/registry-store.js';
import type { EventDependencies } from './events.js';
import { once } from './lazy-api.js';
import { type SharedDependencies, traced } from './shared.js';

export interface RegistrationDependencies {
  /** Registers the package at a reference (the registry's one write use case). */
  readonly registerPackage: RegisterPackage;
  /** Where artifacts are read (the same client and policy as registration; the local runner reads content layers). */
  readonly artifacts: ArtifactSource;
}

/** Adapters a test supplies instead of the registry and the table. */
export interface RegistrationOverrides {
  /** Where registration reads artifacts (tests: a registry behind a fault-injecting gateway). */
  readonly artifacts?: ArtifactSource;
  /** Where registration writes (tests: the DynamoDB store behind a fault-injecting decorator). */
  readonly registryStore?: (table: SingleTable) => RegistryStore;
}

/** Adds registration: artifacts from OCI registries (ECR with its credentials), written to the table. */
export function withRegistration<D extends SharedDependencies & EventDependencies>(
  deps: D,
  overrides: RegistrationOverrides = {},
): D & RegistrationDependencies {
  const { config } = deps;
  const artifacts =
    overrides.artifacts ??
    new DistributionClient({
      credentials: new EcrCredentialProvider({
        client: (ecrRegion) => traced(deps, new ECRClient({ region: ecrRegion })),
      }),
      policy: ConnectionPolicy.fromSettings(config),
    });
  const store =
    overrides.registryStore?.(deps.table) ??
    new DynamoRegistry(deps.table, { registrationRetentionDays: config.REGISTRATION_RETENTION_DAYS });
  const allowlist = parseRegistryAllowlist(config.REGISTRY_ALLOWLIST);
  // The use case (the archive reader, YAML, every manifest contract) is imported on the first
  // registration: a bundle chunk a cold start does not read (ADR 0012).
  const load = once(async () => {
    const { makeRegisterPackage } = await import('../../domain/registry/register-package.js');
    return makeRegisterPackage({
      artifacts,
      store,
      events: deps.events,
      audit: deps.audit,
      clock: deps.clock,
      ids: randomUUID,
      allowlist,
    });
  });
  const registerPackage: RegisterPackage = async (input) => (await load())(input);
  return { ...deps, registerPackage, artifacts };
}
