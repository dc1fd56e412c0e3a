import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { SingleTable } from '../../../lib/adapters/dynamodb/single-table.js';
import { ConcurrentModificationError, ValidationError } from '../../../lib/domain/errors.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

let harness: TestTable;
let table: SingleTable;

beforeAll(async () => {
  harness = await startTestTable();
  table = harness.table;
});
afterAll(async () => harness.close());

describe('SingleTable against the embedded DynamoDB server', () => {
  it('putIfAbsent writes the commit item once and refuses the second writer without changing it', async () => {
    const key = { PK: 'TEST#commit', SK: '#COMMIT' };
    expect(await table.putIfAbsent({ ...key, digest: 'sha256:a' })).toBe(true);
    expect(await table.putIfAbsent({ ...key, digest: 'sha256:b' })).toBe(false);
    expect((await table.get(key))?.digest).toBe('sha256:a');
  });

  it('putWithRevision creates at revision 1 and increments only from the revision it read', async () => {
    const key = { PK: 'TEST#lock', SK: '#STATE' };
    const created = await table.putWithRevision({ ...key, state: 'a' }, 0);
    expect(created.revision).toBe(1);
    const updated = await table.putWithRevision({ ...key, state: 'b' }, 1);
    expect(updated.revision).toBe(2);
    await expect(table.putWithRevision({ ...key, state: 'stale' }, 1)).rejects.toBeInstanceOf(
      ConcurrentModificationError,
    );
    await expect(table.putWithRevision({ ...key, state: 'again' }, 0)).rejects.toBeInstanceOf(
      ConcurrentModificationError,
    );
    expect(await table.get(key)).toMatchObject({ state: 'b', revision: 2 });
  });

  it('lets exactly one of many concurrent writers win an optimistic lock', async () => {
    const key = { PK: 'TEST#race', SK: '#STATE' };
    await table.putWithRevision({ ...key, owner: 'seed' }, 0);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, writer) => table.putWithRevision({ ...key, owner: `w${writer}` }, 1)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect((await table.get(key))?.revision).toBe(2);
  });

  it('batchPut and batchGet handle more items than one DynamoDB batch, preserving key order', async () => {
    const items = Array.from({ length: 240 }, (_, index) => ({
      PK: 'TEST#batch',
      SK: `ITEM#${String(index).padStart(4, '0')}`,
      index,
    }));
    await table.batchPut(items);
    const wanted = [...items].reverse().map(({ PK, SK }) => ({ PK, SK }));
    const read = await table.batchGet([...wanted, { PK: 'TEST#batch', SK: 'MISSING' }]);
    expect(read).toHaveLength(241);
    expect(read.slice(0, 240).map((item) => item?.index)).toEqual(items.map((item) => item.index).reverse());
    expect(read[240]).toBeUndefined();
  });

  it('pages through a partition with opaque cursors, each item exactly once', async () => {
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await table.query({ partition: 'TEST#batch', beginsWith: 'ITEM#', limit: 50, cursor });
      seen.push(...page.items.map((item) => item.index));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(Array.from({ length: 240 }, (_, index) => index));
  });

  it('rejects a cursor it did not issue with a ValidationError naming the cursor', async () => {
    const attempt = table.query({ partition: 'TEST#batch', cursor: 'not-a-cursor' });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_CURSOR', problems: [{ path: 'cursor' }] });
  });

  it('rejects a cursor of another partition, index or key range instead of letting DynamoDB fail', async () => {
    const page = await table.query({ partition: 'TEST#batch', beginsWith: 'ITEM#', limit: 10 });
    const cursor = page.nextCursor;
    expect(cursor).toBeDefined();
    const attempts = [
      table.query({ partition: 'TEST#other', cursor }),
      table.query({ partition: 'TEST#batch', beginsWith: 'OTHER#', cursor }),
      table.query({ partition: 'TEST#batch', between: ['A', 'B'], cursor }),
      table.query({ index: 'GSI1', partition: 'TEST#batch', cursor }),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_CURSOR', problems: [{ path: 'cursor' }] });
    }
    await expect(
      table.query({ partition: 'TEST#batch', beginsWith: 'ITEM#', cursor }),
    ).resolves.toBeDefined();
  });

  it('rejects crafted cursors that are in scope but that DynamoDB would refuse, with INVALID_CURSOR', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const inScope = { PK: 'TEST#batch', SK: 'ITEM#0001' };
    const crafted = [
      encode({ PK: 'TEST#batch', SK: '' }),
      encode({ PK: 'TEST#batch', SK: `ITEM#${'x'.repeat(1100)}` }),
      Buffer.from('{"__proto__":{"x":"y"},"PK":"TEST#batch","SK":"ITEM#0001"}').toString('base64url'),
      encode({ PK: 'TEST#batch', SK: 1 }),
      encode({ PK: 'TEST#batch', SK: ['ITEM#1'] }),
      encode({ PK: 'TEST#batch', SK: { S: 'ITEM#1' } }),
      encode({ PK: 'TEST#batch', SK: 'ITEM#\ud800' }),
      encode([inScope]),
      encode(1e308),
      // The same key in a form we never issue: padded base64, or base64 with trailing garbage bits.
      Buffer.from(JSON.stringify({ PK: 'TEST#batch', SK: 'ITEM#01' })).toString('base64'),
      `${encode(inScope)}!!`,
      Buffer.from('garbage that is not JSON').toString('base64url'),
    ];
    for (const [index, cursor] of crafted.entries()) {
      await expect(
        table.query({ partition: 'TEST#batch', beginsWith: 'ITEM#', cursor }),
        `crafted cursor #${index}`,
      ).rejects.toMatchObject({ code: 'INVALID_CURSOR', problems: [{ path: 'cursor' }] });
    }
    await expect(
      table.query({ partition: 'TEST#batch', beginsWith: 'ITEM#', cursor: encode(inScope) }),
    ).resolves.toBeDefined();
  });

  it('rejects a crafted index cursor whose table key DynamoDB would refuse, with INVALID_CURSOR', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const index = { GSI1PK: 'TEST#index', GSI1SK: 'a' };
    for (const key of [
      { ...index, PK: '', SK: 'x' },
      { ...index, PK: 'x', SK: '' },
      { ...index, PK: 'x', SK: 'y'.repeat(1100) },
      { ...index, PK: 'x'.repeat(2100), SK: 'y' },
    ]) {
      await expect(
        table.query({ index: 'GSI1', partition: 'TEST#index', cursor: encode(key) }),
      ).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    }
  });

  it('queries a GSI and applies equality filters on map entries', async () => {
    await table.batchPut([
      { PK: 'TEST#g1', SK: '#X', GSI3PK: 'TEST#GSI', GSI3SK: 'a', labels: { team: 'core' } },
      { PK: 'TEST#g2', SK: '#X', GSI3PK: 'TEST#GSI', GSI3SK: 'b', labels: { team: 'edge' } },
      { PK: 'TEST#g3', SK: '#X', GSI3PK: 'TEST#GSI', GSI3SK: 'c', labels: { team: 'core' } },
    ]);
    const page = await table.query({
      index: 'GSI3',
      partition: 'TEST#GSI',
      filter: { 'labels.team': 'core' },
    });
    expect(page.items.map((item) => item.PK)).toEqual(['TEST#g1', 'TEST#g3']);
  });

  it('hides items whose TTL has passed even before DynamoDB deletes them', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const clocked = new SingleTable(harness.client, table.tableName, () => now);
    const key = keys.idempotencyKey('test', 'ttl-test');
    await clocked.put({ ...key, expiresAt: Math.floor(now.getTime() / 1000) + 60 });
    expect(await clocked.get(key)).toBeDefined();
    now = new Date('2026-01-01T00:02:00Z');
    expect(await clocked.get(key)).toBeUndefined();
    expect(await clocked.batchGet([key])).toEqual([undefined]);
  });

  it('counts requests, items and consumed capacity for the benchmarks', async () => {
    const before = { ...table.stats };
    await table.put({ PK: 'TEST#stats', SK: '#ONE', payload: 'x'.repeat(2000) });
    await table.get({ PK: 'TEST#stats', SK: '#ONE' });
    expect(table.stats.requests - before.requests).toBe(2);
    expect(table.stats.itemsWritten - before.itemsWritten).toBe(1);
    expect(table.stats.writeCapacityUnits - before.writeCapacityUnits).toBeGreaterThanOrEqual(2);
    expect(table.stats.readCapacityUnits - before.readCapacityUnits).toBeGreaterThan(0);
  });
});
