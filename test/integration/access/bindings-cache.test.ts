import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBindingsStore, DynamoNamespaceLookup } from '../../../lib/adapters/dynamodb/bindings-store.js';
import { AccessControl } from '../../../lib/api/access-control.js';
import { GroupDirectory } from '../../../lib/domain/identity/groups.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(() => table.close());

function accessControl() {
  return new AccessControl({
    mode: 'enforced',
    readAccess: 'open',
    platformAdminGroup: 'platform-admins',
    groups: new GroupDirectory({}),
    bindings: new DynamoBindingsStore(table.table),
    lookup: new DynamoNamespaceLookup(table.table),
    clock: () => new Date('2026-11-27T12:00:00Z'),
    cacheSeconds: 10,
  });
}

/** DynamoDB requests `read` makes. */
async function requestsOf(read: () => Promise<unknown>): Promise<number> {
  const before = table.table.stats.requests;
  await read();
  return table.table.stats.requests - before;
}

describe('the bindings cache', () => {
  it('reads a namespace once while its bindings are trusted', async () => {
    const access = accessControl();
    expect(await requestsOf(() => access.bindingsOf('sales'))).toBe(1);
    expect(await requestsOf(() => access.bindingsOf('sales'))).toBe(0);
  });

  it('stays bounded when callers name namespace after namespace', async () => {
    const access = accessControl();
    await access.bindingsOf('sales');
    for (let index = 0; index < 1100; index++) await access.bindingsOf(`ns-${index}`);
    // Still within its 10 s, but pushed out by the others: read again rather than kept forever.
    expect(await requestsOf(() => access.bindingsOf('sales'))).toBe(1);
  });
});
