import * as z from 'zod';
import type { AuditQuery } from '../../contracts/api/access.js';
import { ValidationError } from '../../domain/errors.js';
import { personOf } from '../../domain/identity/principal.js';
import type { AuditPage, AuditStore, StoredAuditRecord } from '../../ports/audit-log.js';
import { keys } from './keys.js';
import { expiresAfter } from './retention.js';
import type { Item, SingleTable } from './single-table.js';

/** How far back an unbounded listing looks when records are kept forever (retention 0). */
const defaultWindowDays = 400;

/**
 * Queries one page may spend: a rare filter over a long range stops there and hands back a cursor, so no
 * request reads the whole trail. Fourteen months of retention cost fourteen Queries when nothing filters.
 */
const maxQueriesPerPage = 30;

const cursorSchema = z.strictObject({
  /** The month partition to go on with (listings of the whole trail). */
  m: z
    .string()
    .regex(/^\d{4}-\d{2}$/)
    .optional(),
  /** The table's own cursor inside that partition (or inside the index partition). */
  c: z.string().min(1).optional(),
});

const invalidCursor = (cause?: unknown) =>
  new ValidationError('INVALID_CURSOR', 'The cursor is not one this list returned.', {
    problems: [{ code: 'INVALID_CURSOR', path: 'cursor', message: 'not a cursor returned by this list' }],
    ...(cause === undefined ? {} : { cause }),
  });

/** The attributes an audit item holds besides the record: keys and expiry. */
const storageAttributes = new Set([
  'PK',
  'SK',
  'GSI1PK',
  'GSI1SK',
  'GSI2PK',
  'GSI2SK',
  'GSI3PK',
  'GSI3SK',
  'expiresAt',
]);

/**
 * The audit trail in the table (docs/data-model.md, Access control and audit): `AUDIT#{yyyy-mm}` /
 * `{at}#{id}`, and the same sort key under `AUDIT#NS#{namespace}` (GSI1), `AUDIT#ACTOR#{person}` (GSI2) and
 * `AUDIT#TARGET#{target}` (GSI3). Written once with `attribute_not_exists`, never updated; expires after
 * the audit retention (TTL).
 */
export class DynamoAuditStore implements AuditStore {
  constructor(
    private readonly table: SingleTable,
    private readonly options: { readonly retentionDays: number; readonly clock: () => Date },
  ) {}

  async write(record: StoredAuditRecord): Promise<void> {
    const key = keys.auditRecord(record.at, record.id);
    const sk = keys.auditIndex.sk(record.at, record.id);
    const expiresAt = expiresAfter(record.at, this.options.retentionDays);
    await this.table.putIfAbsent({
      ...record,
      ...key,
      ...(record.namespace === undefined
        ? {}
        : { GSI1PK: keys.auditIndex.ofNamespace(record.namespace), GSI1SK: sk }),
      GSI2PK: keys.auditIndex.ofActor(record.person),
      GSI2SK: sk,
      GSI3PK: keys.auditIndex.ofTarget(record.target),
      GSI3SK: sk,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }

  /**
   * Newest first. A namespace, actor or target is one Query of its index (the other filters apply to what
   * it reads); without one, the month partitions from `to` back to `from` (by default the retention).
   */
  async list(query: AuditQuery): Promise<AuditPage> {
    const now = this.options.clock();
    const windowDays = this.options.retentionDays > 0 ? this.options.retentionDays : defaultWindowDays;
    const from = query.from ?? new Date(now.getTime() - windowDays * 86_400_000).toISOString();
    const to = query.to;
    // `{at}#{id}`: `~` sorts after `#`, so every record at `to` is inside the range.
    const between: readonly [string, string] = [from, to === undefined ? '~' : `${to}~`];
    const { index, partition, filter } = this.plan(query);
    const months = index === undefined ? monthsBetween(from, to ?? now.toISOString()) : [];
    const cursor = parseCursor(query.cursor);
    let monthIndex = 0;
    if (cursor !== undefined) {
      // A month cursor for an index listing, or an index cursor for the whole trail, is another list's.
      if (index === undefined ? cursor.m === undefined : cursor.m !== undefined || cursor.c === undefined)
        throw invalidCursor();
      if (cursor.m !== undefined) monthIndex = months.indexOf(cursor.m);
      if (monthIndex < 0) throw invalidCursor();
    }
    // The record contract is built on the first listing: every function writes records, few read them.
    const { auditRecordSchema } = await import('../../contracts/api/access.js');
    const recordOf = (item: Item): StoredAuditRecord => auditRecordSchema.parse(withoutKeys(item));
    let inner = cursor?.c;
    const items: StoredAuditRecord[] = [];
    const next = (): AuditPage => {
      const month = months[monthIndex];
      if (index === undefined)
        return month === undefined ? { items } : { items, nextCursor: encode({ m: month, c: inner }) };
      return inner === undefined ? { items } : { items, nextCursor: encode({ c: inner }) };
    };
    for (let queries = 0; items.length < query.limit; queries++) {
      const current = index === undefined ? months[monthIndex] : partition;
      if (current === undefined || queries >= maxQueriesPerPage) return next();
      const page = await this.table.query({
        ...(index === undefined ? {} : { index }),
        partition: index === undefined ? keys.auditMonth(current) : current,
        between,
        ascending: false,
        limit: query.limit - items.length,
        cursor: inner,
        ...(Object.keys(filter).length === 0 ? {} : { filter }),
      });
      items.push(...page.items.map(recordOf));
      inner = page.nextCursor;
      if (inner !== undefined) continue;
      if (index !== undefined) return { items };
      monthIndex++;
    }
    return next();
  }

  /** Which partition a query reads, and what it filters there. */
  private plan(query: AuditQuery): {
    index?: 'GSI1' | 'GSI2' | 'GSI3';
    partition: string;
    filter: Record<string, string | { beginsWith: string }>;
  } {
    const filter: Record<string, string | { beginsWith: string }> = {};
    const action = query.action;
    if (action !== undefined) {
      filter.action = action.endsWith('.*') ? { beginsWith: action.slice(0, -1) } : action;
    }
    // An actor is a person (a session name, an embedded name) or a principal: a principal that is not its
    // own person (an ARN) reads its person's partition and keeps that principal's records.
    const actor = query.actor;
    const actorFilter = (): void => {
      if (actor === undefined) return;
      if (personOf(actor) !== actor) filter.principal = actor;
      else filter.person = actor;
    };
    if (query.namespace !== undefined) {
      actorFilter();
      if (query.target !== undefined) filter.target = query.target;
      return { index: 'GSI1', partition: keys.auditIndex.ofNamespace(query.namespace), filter };
    }
    if (actor !== undefined) {
      if (personOf(actor) !== actor) filter.principal = actor;
      if (query.target !== undefined) filter.target = query.target;
      return { index: 'GSI2', partition: keys.auditIndex.ofActor(personOf(actor)), filter };
    }
    if (query.target !== undefined) {
      return { index: 'GSI3', partition: keys.auditIndex.ofTarget(query.target), filter };
    }
    return { partition: '', filter };
  }
}

/** An item's attributes without its keys and indexes: the record. */
function withoutKeys(item: Item): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !storageAttributes.has(name)));
}

/** `yyyy-mm` of every month from `to`'s back to `from`'s, newest first. */
function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let year = Number(to.slice(0, 4));
  let month = Number(to.slice(5, 7));
  const last = from.slice(0, 7);
  for (;;) {
    const current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (current < last) return months;
    months.push(current);
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
}

function encode(cursor: z.infer<typeof cursorSchema>): string {
  const value = {
    ...(cursor.m === undefined ? {} : { m: cursor.m }),
    ...(cursor.c === undefined ? {} : { c: cursor.c }),
  };
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function parseCursor(cursor: string | undefined): z.infer<typeof cursorSchema> | undefined {
  if (cursor === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw invalidCursor(cause);
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success || Buffer.from(JSON.stringify(parsed.data), 'utf8').toString('base64url') !== cursor)
    throw invalidCursor();
  return parsed.data;
}
