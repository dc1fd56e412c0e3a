import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoDbClient } from '../adapters/dynamodb/client.js';
import { DynamoPackageReader } from '../adapters/dynamodb/package-heads.js';
import { SingleTable } from '../adapters/dynamodb/single-table.js';
import type { PackageReader } from '../ports/package-repository.js';
import { type Config, loadConfig } from './config.js';

/** Everything a handler needs, built once per process: the composition root. */
export interface Dependencies {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly table: SingleTable;
  readonly packages: PackageReader;
}

/** Wires the adapters for a configuration; AWS and the embedded mode differ only in the config. */
export function createDependencies(config: Config, logger?: Logger): Dependencies {
  const clock = () => new Date();
  const client = createDynamoDbClient({
    ...(config.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: config.DYNAMODB_ENDPOINT }),
    ...(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
  });
  const table = new SingleTable(client, config.TABLE_NAME, clock);
  return {
    config,
    logger: logger ?? new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL }),
    clock,
    table,
    packages: new DynamoPackageReader(table),
  };
}

let processDependencies: Dependencies | undefined;

/** The dependencies of this Lambda process, from its environment, created on first use. */
export function lambdaDependencies(): Dependencies {
  processDependencies ??= createDependencies(loadConfig(process.env));
  return processDependencies;
}
