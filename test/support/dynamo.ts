import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../../lib/adapters/dynamodb/client.js';
import { ensureTable } from '../../lib/adapters/dynamodb/create-table.js';
import { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/dynamodb-server.js';
import { defaultTableName } from '../../lib/contracts/table.js';

export interface TestTable {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly table: SingleTable;
  close(): Promise<void>;
}

/**
 * A real DynamoDB-compatible server (dynalite, in memory) with the table created from the shared
 * definition: integration tests run the adapters against it, never against a mocked client.
 */
export async function startTestTable(
  options: { now?: () => Date; dataDir?: string } = {},
): Promise<TestTable> {
  const server = await startEmbeddedDynamoDb(
    options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  );
  const client = createDynamoDbClient({ endpoint: server.endpoint });
  await ensureTable(client, defaultTableName);
  return {
    endpoint: server.endpoint,
    client,
    table: new SingleTable(client, defaultTableName, options.now),
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
