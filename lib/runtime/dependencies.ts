import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { createDynamoDbClient } from '../adapters/dynamodb/client.js';
import { DynamoLineageStore } from '../adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../adapters/dynamodb/registry-store.js';
import { SingleTable } from '../adapters/dynamodb/single-table.js';
import { EventBridgePublisher } from '../adapters/eventbridge/event-publisher.js';
import { FileBlobStore } from '../adapters/local/file-blob-store.js';
import { DistributionClient } from '../adapters/oci/distribution-client.js';
import { EcrCredentialProvider } from '../adapters/oci/ecr-credentials.js';
import { S3BlobStore } from '../adapters/s3/blob-store.js';
import { makeRegisterPackage, type RegisterPackage } from '../domain/registry/register-package.js';
import { parseRegistryAllowlist } from '../domain/registry/registry-allowlist.js';
import type { ArtifactSource } from '../ports/artifact-source.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { LineageStore } from '../ports/lineage-store.js';
import type { PackageReader } from '../ports/package-repository.js';
import type { RegistryStore } from '../ports/registry-store.js';
import { type Config, loadConfig } from './config.js';

/** Everything a handler needs, built once per process: the composition root. */
export interface Dependencies {
  readonly config: Config;
  readonly logger: Logger;
  /** X-Ray, in Lambda only: a subsegment for every AWS SDK call. */
  readonly tracer?: Tracer | undefined;
  /** CloudWatch metrics (EMF) in Lambda; absent in embedded mode. */
  readonly metrics?: Metrics | undefined;
  readonly clock: () => Date;
  readonly table: SingleTable;
  readonly packages: PackageReader;
  /** The `datakit` bus: EventBridge in AWS, the in-process bus in embedded mode. */
  readonly events: EventPublisher;
  /** OpenLineage runs, jobs, datasets and graph (issue 4). */
  readonly lineage: LineageStore;
  /** Registers the package at a reference (the registry's one write use case). */
  readonly registerPackage: RegisterPackage;
}

/** Adapters the embedded mode (or a test) supplies instead of the AWS ones. */
export interface DependencyOverrides {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
  readonly events?: EventPublisher;
  /** Where raw lineage events too large for an item go (tests: a temporary directory). */
  readonly blobs?: BlobStore;
  /** Where registration reads artifacts (tests: a registry behind a fault-injecting gateway). */
  readonly artifacts?: ArtifactSource;
  /** Where registration writes (tests: the DynamoDB store behind a fault-injecting decorator). */
  readonly registryStore?: (table: SingleTable) => RegistryStore;
}

/** Wires the adapters for a configuration; AWS and the embedded mode differ only in the config. */
export function createDependencies(config: Config, overrides: DependencyOverrides = {}): Dependencies {
  const clock = () => new Date();
  const tracer = overrides.tracer;
  const traced = <Client>(client: Client): Client =>
    tracer === undefined ? client : tracer.captureAWSv3Client(client);
  const region = config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION };
  const client = traced(
    createDynamoDbClient({
      ...(config.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: config.DYNAMODB_ENDPOINT }),
      ...region,
    }),
  );
  const table = new SingleTable(client, config.TABLE_NAME, clock);
  const registry = new DynamoRegistry(table);
  const events =
    overrides.events ??
    new EventBridgePublisher(traced(new EventBridgeClient(region)), config.EVENT_BUS_NAME);
  const artifacts =
    overrides.artifacts ??
    new DistributionClient({
      credentials: new EcrCredentialProvider({
        client: (ecrRegion) => traced(new ECRClient({ region: ecrRegion })),
      }),
      insecureHosts: parseRegistryAllowlist(config.REGISTRY_INSECURE_HOSTS),
    });
  return {
    config,
    logger: overrides.logger ?? new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL }),
    tracer,
    metrics: overrides.metrics,
    clock,
    table,
    lineage: new DynamoLineageStore(table, overrides.blobs ?? rawEventBlobs(config, traced)),
    packages: registry,
    events,
    registerPackage: makeRegisterPackage({
      artifacts,
      store: overrides.registryStore?.(table) ?? registry,
      events,
      clock,
      ids: randomUUID,
      allowlist: parseRegistryAllowlist(config.REGISTRY_ALLOWLIST),
    }),
  };
}

/** S3 when `RAW_EVENTS_BUCKET` is set (AWS), else files under `RAW_EVENTS_DIR` (or the temp dir). */
function rawEventBlobs(config: Config, traced: <Client>(client: Client) => Client): BlobStore {
  if (config.RAW_EVENTS_BUCKET !== undefined) {
    return new S3BlobStore(
      traced(new S3Client(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION })),
      config.RAW_EVENTS_BUCKET,
    );
  }
  return new FileBlobStore(config.RAW_EVENTS_DIR ?? join(tmpdir(), 'datakit-raw-events'));
}

let processDependencies: Promise<Dependencies> | undefined;

/**
 * The dependencies of this Lambda process, from its environment, created on first use, with X-Ray
 * and CloudWatch metrics. Both are imported here, on demand: the X-Ray SDK installs async hooks that
 * tax every promise, a price worth paying in Lambda but not in the embedded mode or the tests.
 */
export function lambdaDependencies(): Promise<Dependencies> {
  processDependencies ??= (async () => {
    const [{ Tracer }, { Metrics }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/metrics'),
    ]);
    return createDependencies(loadConfig(process.env), {
      tracer: new Tracer({ serviceName: 'datakit' }),
      metrics: new Metrics({ namespace: 'DataKit', serviceName: 'datakit' }),
    });
  })();
  return processDependencies;
}
