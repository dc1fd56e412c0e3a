import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../../lib/adapters/dynamodb/client.js';
import { SingleTable } from '../../../lib/adapters/dynamodb/single-table.js';
import { DependencyUnavailableError } from '../../../lib/domain/errors.js';
import { freePort } from '../../support/control-plane-process.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

let harness: TestTable;
beforeAll(async () => {
  harness = await startTestTable();
});
afterAll(async () => harness.close());

describe('SingleTable failures', () => {
  it('answers a storage that does not answer with a retryable STORAGE_UNAVAILABLE, keeping the cause', async () => {
    const client = createDynamoDbClient({ endpoint: `http://127.0.0.1:${await freePort()}` });
    const table = new SingleTable(client, 'datakit');
    try {
      const failure = await table.get({ PK: 'A', SK: 'B' }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(DependencyUnavailableError);
      expect(failure).toMatchObject({ code: 'STORAGE_UNAVAILABLE', cause: { code: 'ECONNREFUSED' } });
    } finally {
      client.destroy();
    }
  });

  it('leaves a request DynamoDB refuses as it is: a bug, not an outage', async () => {
    const failure = await harness.table.put({ PK: '', SK: 'B' }).catch((error: unknown) => error);

    expect(failure).not.toBeInstanceOf(DependencyUnavailableError);
    expect(failure).toMatchObject({ name: 'ValidationException' });
  });
});
