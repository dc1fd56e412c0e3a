import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createDynamoDbClient } from '../adapters/dynamodb/client.js';
import { DynamoPackageReader } from '../adapters/dynamodb/package-heads.js';
import { SingleTable } from '../adapters/dynamodb/single-table.js';
import { EventBridgePublisher } from '../adapters/eventbridge/event-publisher.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { PackageReader } from '../ports/package-repository.js';
import { type Config, loadConfig } from './config.js';

/** Everything a handler needs, built once per process: the composition root. */
export interface Dependencies {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly table: SingleTable;
  readonly packages: PackageReader;
  /** The `datakit` bus: EventBridge in AWS, the in-process bus in embedded mode. */
  readonly events: EventPublisher;
}

/** Adapters the embedded mode (or a test) supplies instead of the AWS ones. */
export interface DependencyOverrides {
  readonly logger?: Logger;
  readonly events?: EventPublisher;
}

/** Wires the adapters for a configuration; AWS and the embedded mode differ only in the config. */
export function createDependencies(config: Config, overrides: DependencyOverrides = {}): Dependencies {
  const clock = () => new Date();
  const client = createDynamoDbClient({
    ...(config.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: config.DYNAMODB_ENDPOINT }),
    ...(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
  });
  const table = new SingleTable(client, config.TABLE_NAME, clock);
  return {
    config,
    logger: overrides.logger ?? new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL }),
    clock,
    table,
    packages: new DynamoPackageReader(table),
    events:
      overrides.events ??
      new EventBridgePublisher(
        new EventBridgeClient(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
        config.EVENT_BUS_NAME,
      ),
  };
}

let processDependencies: Dependencies | undefined;

/** The dependencies of this Lambda process, from its environment, created on first use. */
export function lambdaDependencies(): Dependencies {
  processDependencies ??= createDependencies(loadConfig(process.env));
  return processDependencies;
}
