import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../../lib/adapters/dynamodb/audit-log.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { LocalEventBus } from '../../../lib/adapters/local/event-bus.js';
import type { AuditQuery } from '../../../lib/contracts/api/access.js';
import { auditQuerySchema } from '../../../lib/contracts/api/access.js';
import { ValidationError } from '../../../lib/domain/errors.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import type { AuditStore, StoredAuditRecord } from '../../../lib/ports/audit-log.js';
import { AuditTrail, maxAuditValueBytes } from '../../../lib/runtime/audit-trail.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

const now = new Date('2026-06-15T12:00:00.000Z');
const ada = 'arn:aws:sts::111122223333:assumed-role/DataAdmins/ada';
const bob = 'arn:aws:iam::111122223333:user/bob';

const record = (at: string, id: string, overrides: Partial<StoredAuditRecord> = {}): StoredAuditRecord => ({
  id,
  at,
  action: 'promotion.request',
  principal: ada,
  person: 'ada',
  namespace: 'sales',
  target: 'package:sales/report',
  outcome: 'succeeded',
  ...overrides,
});

/** Records over four months, newest last: what the listings below read. */
const trail: StoredAuditRecord[] = [
  record('2026-03-02T10:00:00.000Z', 'r1', {
    action: 'store.put',
    namespace: undefined,
    target: 'store:blue/lake',
  }),
  record('2026-04-10T09:00:00.000Z', 'r2', { principal: bob, person: 'bob', action: 'run.start' }),
  record('2026-04-20T09:00:00.000Z', 'r3', { namespace: 'ops', target: 'package:ops/clean' }),
  record('2026-05-01T00:00:00.000Z', 'r4', {
    action: 'promotion.decide',
    outcome: 'refused',
    code: 'SELF_APPROVAL',
  }),
  record('2026-06-14T08:00:00.000Z', 'r5', { principal: bob, person: 'bob', action: 'run.cancel' }),
  record('2026-06-15T11:59:00.000Z', 'r6', { action: 'bindings.put', target: 'bindings:sales' }),
];

let table: TestTable;
let store: DynamoAuditStore;

const query = (input: Record<string, string | number> = {}): AuditQuery => auditQuerySchema.parse(input);

async function all(input: Record<string, string | number>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(query({ ...input, ...(cursor === undefined ? {} : { cursor }) }));
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

beforeAll(async () => {
  table = await startTestTable({ now: () => now });
  store = new DynamoAuditStore(table.table, { retentionDays: 400, clock: () => now });
  for (const entry of trail) await store.write(entry);
});
afterAll(() => table.close());

describe('the audit trail in the table', () => {
  it('lists everything newest first across month partitions, page by page', async () => {
    const first = await store.list(query({ limit: 4 }));
    expect(first.items.map((item) => item.id)).toEqual(['r6', 'r5', 'r4', 'r3']);
    expect(await all({ limit: 2 })).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
  });

  it('reads one Query per month of the range, and no more', async () => {
    const before = table.table.stats.requests;
    await store.list(query({ from: '2026-02-01T00:00:00Z', limit: 100 }));
    // February to June: five month partitions.
    expect(table.table.stats.requests - before).toBe(5);
  });

  it('filters by namespace, by person or principal, by action or action prefix, by target and by time', async () => {
    expect(await all({ namespace: 'sales' })).toEqual(['r6', 'r5', 'r4', 'r2']);
    expect(await all({ actor: 'bob' })).toEqual(['r5', 'r2']);
    expect(await all({ actor: bob })).toEqual(['r5', 'r2']);
    expect(await all({ actor: 'arn:aws:iam::111122223333:user/other/bob' })).toEqual([]);
    expect(await all({ action: 'run.*' })).toEqual(['r5', 'r2']);
    expect(await all({ action: 'promotion.decide', namespace: 'sales' })).toEqual(['r4']);
    expect(await all({ target: 'package:ops/clean' })).toEqual(['r3']);
    expect(await all({ from: '2026-04-15T00:00:00Z', to: '2026-05-01T00:00:00Z' })).toEqual(['r4', 'r3']);
    expect(await all({ namespace: 'sales', actor: 'bob', limit: 1 })).toEqual(['r5', 'r2']);
  });

  it('keeps each record once, as first written', async () => {
    const first = record('2026-06-15T11:59:00.000Z', 'r6', {
      action: 'bindings.put',
      target: 'bindings:sales',
    });
    await store.write({ ...first, outcome: 'failed' });
    const listed = await store.list(query({ action: 'bindings.put' }));
    expect(listed.items).toEqual([first]);
  });

  it('refuses a cursor it did not hand out, or one of another listing, as INVALID_CURSOR', async () => {
    const indexCursor = (await store.list(query({ namespace: 'sales', limit: 1 }))).nextCursor;
    const monthCursor = (await store.list(query({ limit: 1 }))).nextCursor;
    expect(indexCursor).toBeDefined();
    expect(monthCursor).toBeDefined();
    for (const [input, cursor] of [
      [{}, 'garbage'],
      [{}, indexCursor],
      [{ namespace: 'sales' }, monthCursor],
    ] as const) {
      await expect(store.list(query({ ...input, cursor: cursor ?? '' }))).rejects.toMatchObject({
        code: 'INVALID_CURSOR',
      });
    }
    await expect(store.list(query({ cursor: 'garbage' }))).rejects.toBeInstanceOf(ValidationError);
  });

  it('lays records out under month partitions and per namespace, person and target, expiring after the retention', async () => {
    const item = await table.table.get(keys.auditRecord('2026-04-10T09:00:00.000Z', 'r2'));
    expect(item).toMatchObject({
      PK: 'AUDIT#2026-04',
      GSI1PK: 'AUDIT#NS#sales',
      GSI2PK: 'AUDIT#ACTOR#bob',
      GSI3PK: 'AUDIT#TARGET#package:sales/report',
      expiresAt: Date.parse('2026-04-10T09:00:00.000Z') / 1000 + 400 * 86_400,
    });
  });

  it('hides a record once its retention has passed', async () => {
    const later = new DynamoAuditStore(table.table, { retentionDays: 30, clock: () => now });
    await later.write(record('2026-01-01T00:00:00.000Z', 'old', { target: 'package:sales/old' }));
    expect(await all({ target: 'package:sales/old' })).toEqual([]);
  });
});

describe('the audit trail of a request', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  const init = (requestId: string) => ({
    requestId,
    at: now.toISOString(),
    method: 'POST',
    path: '/v1/promotions',
    action: 'promotion.request',
    target: 'package:sales/report',
  });

  it('folds what the caller’s use cases record into the request’s one record; others record on their own', async () => {
    const bus = new LocalEventBus(logger);
    const audit = new AuditTrail({ store, logger, publisher: bus });
    const request = audit.request(init('req-fold'));
    request.caller = callerFor(ada);
    request.namespace = 'sales';
    await request.run(async () => {
      await audit.append({
        id: 'p1:requested',
        at: now.toISOString(),
        action: 'promotion.requested',
        subject: 'package:sales/report',
        actor: ada,
        details: { promotionId: 'p1' },
      });
      await audit.append({
        id: 'p1:deployed',
        at: now.toISOString(),
        action: 'promotion.deployed',
        subject: 'package:sales/report',
        actor: 'pipeline',
        details: { promotionId: 'p1' },
      });
    });
    // After the operation: work it left running records on its own, whoever the actor.
    await audit.append({
      id: 'p1:late',
      at: now.toISOString(),
      action: 'promotion.requested',
      subject: 'package:sales/report',
      actor: ada,
      details: {},
    });
    await request.finish(201, { before: { version: '0.9.0' }, after: { version: '1.0.0' } });

    const listed = (await store.list(query({ target: 'package:sales/report', from: '2026-06-15T00:00:00Z' })))
      .items;
    const mine = listed.filter((item) => item.requestId === 'req-fold');
    expect(mine).toEqual([
      expect.objectContaining({
        action: 'promotion.request',
        principal: ada,
        person: 'ada',
        outcome: 'succeeded',
        request: { method: 'POST', path: '/v1/promotions', status: 201 },
        before: { version: '0.9.0' },
        after: { version: '1.0.0' },
        effects: [
          { action: 'promotion.requested', target: 'package:sales/report', details: { promotionId: 'p1' } },
        ],
      }),
    ]);
    expect(listed.map((item) => item.id)).toEqual(expect.arrayContaining(['p1:deployed', 'p1:late']));
    expect(listed.find((item) => item.id === 'p1:deployed')).toMatchObject({
      principal: 'pipeline',
      namespace: 'sales',
    });
    // Every record went to the bus as well.
    const copied = bus.events().filter((event) => event['detail-type'] === 'Audit Record');
    expect(copied.map((event) => event.detail.id).sort()).toEqual(['p1:deployed', 'p1:late', 'req-fold']);
  });

  it('keeps a value over the size limit as its digest', async () => {
    const audit = new AuditTrail({ store, logger });
    const request = audit.request(init('req-large'));
    await request.finish(200, { after: { text: 'x'.repeat(maxAuditValueBytes) } });
    const [written] = (await store.list(query({ action: 'promotion.request', actor: 'anonymous' }))).items;
    expect(written?.after).toMatchObject({ truncated: true, bytes: maxAuditValueBytes + 11 });
  });

  it('logs a record it cannot write, whole, instead of failing the answer', async () => {
    const failing: AuditStore = {
      write: async () => {
        throw new Error('table down');
      },
      list: async () => ({ items: [] }),
    };
    const lines: unknown[] = [];
    const capture = {
      error: (message: unknown, ...rest: unknown[]) => {
        lines.push([message, ...rest]);
      },
    };
    const request = new AuditTrail({ store: failing, logger: capture }).request(init('req-lost'));
    await expect(request.finish(500, {}, 'INTERNAL')).resolves.toBeUndefined();
    expect(lines).toEqual([
      [
        'audit record not written',
        expect.objectContaining({ record: expect.objectContaining({ id: 'req-lost', code: 'INTERNAL' }) }),
      ],
    ]);
  });
});
