import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { IndexName } from '../../contracts/table.js';
import { ConcurrentModificationError, DependencyUnavailableError } from '../../domain/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ItemKey } from './keys.js';

export type Item = Record<string, unknown> & ItemKey;

/** Running totals of what this process asked of DynamoDB; the benchmarks report them. */
export interface TableStats {
  requests: number;
  itemsRead: number;
  itemsWritten: number;
  readCapacityUnits: number;
  writeCapacityUnits: number;
}

export interface QueryOptions {
  readonly index?: IndexName;
  readonly partition: string;
  /** Restricts the sort key to this prefix. */
  readonly beginsWith?: string;
  /** Restricts the sort key to this inclusive range. */
  readonly between?: readonly [string, string];
  /**
   * Conditions applied after the key condition (`labels.team` addresses a map entry): equality, or a
   * prefix. A filtered page may hold fewer than `limit` items; its cursor still continues where it stopped.
   */
  readonly filter?: Readonly<Record<string, string | { readonly beginsWith: string }>>;
  readonly limit?: number;
  readonly cursor?: string | undefined;
  /** @default true (ascending sort key) */
  readonly ascending?: boolean;
  readonly consistent?: boolean;
}

/** The condition of an `update`; it changes nothing when the condition does not hold. */
export type UpdateCondition =
  /** Optimistic locking: `revision` must still be `expected` (0: the item has no revision yet); sets expected + 1. */
  | { readonly kind: 'revision'; readonly expected: number }
  /** The item must exist (never creates a key-only item). */
  | { readonly kind: 'exists' }
  /** The item must exist and hold this attribute. */
  | { readonly kind: 'has'; readonly attribute: string }
  /** Last writer by time wins: `attribute` must be absent or not later than `value`. */
  | { readonly kind: 'not-after'; readonly attribute: string; readonly value: string };

/** One UpdateItem: top-level attributes to set, numbers and string sets to add to, string sets to delete from. */
export interface UpdateOptions {
  readonly set?: Readonly<Record<string, unknown>>;
  /** Set only when the attribute is absent (`if_not_exists`). */
  readonly setIfAbsent?: Readonly<Record<string, unknown>>;
  readonly add?: Readonly<Record<string, number | ReadonlySet<string>>>;
  readonly delete?: Readonly<Record<string, ReadonlySet<string>>>;
  readonly condition?: UpdateCondition;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

const maxBatchGet = 100;
const maxBatchWrite = 25;
const maxBatchAttempts = 8;

/**
 * The table's data access primitives: reads filter expired (TTL) items, multi-item operations are
 * chunked and retried until DynamoDB has processed every item, and conditional writes express the
 * commit-item and optimistic-locking patterns. Repositories build on this; nothing else talks to
 * DynamoDB directly.
 */
export class SingleTable {
  readonly stats: TableStats = {
    requests: 0,
    itemsRead: 0,
    itemsWritten: 0,
    readCapacityUnits: 0,
    writeCapacityUnits: 0,
  };
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  /** Reads one item; strongly consistent unless told otherwise. */
  async get(key: ItemKey, options: { consistent?: boolean } = {}): Promise<Item | undefined> {
    const output = await this.guard(
      this.documents.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { PK: key.PK, SK: key.SK },
          ConsistentRead: options.consistent ?? true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.countRead(output.Item === undefined ? 0 : 1, output.ConsumedCapacity?.CapacityUnits);
    return output.Item === undefined ? undefined : this.live(toItem(output.Item));
  }

  /** One page of a partition (of the table or a GSI), sort-key ordered. */
  async query(options: QueryOptions): Promise<Page<Item>> {
    const index = options.index;
    const pkName = index === undefined ? 'PK' : `${index}PK`;
    const skName = index === undefined ? 'SK' : `${index}SK`;
    const values: Record<string, string> = { ':pk': options.partition };
    let condition = '#pk = :pk';
    if (options.beginsWith !== undefined) {
      condition += ' AND begins_with(#sk, :prefix)';
      values[':prefix'] = options.beginsWith;
    } else if (options.between !== undefined) {
      condition += ' AND #sk BETWEEN :from AND :to';
      values[':from'] = options.between[0];
      values[':to'] = options.between[1];
    }
    const names: Record<string, string> = condition.includes('#sk')
      ? { '#pk': pkName, '#sk': skName }
      : { '#pk': pkName };
    const filters = Object.entries(options.filter ?? {}).map(([path, value], index) => {
      values[`:f${index}`] = typeof value === 'string' ? value : value.beginsWith;
      const segments = path.split('.').map((segment, depth) => {
        names[`#f${index}_${depth}`] = segment;
        return `#f${index}_${depth}`;
      });
      const attribute = segments.join('.');
      return typeof value === 'string'
        ? `${attribute} = :f${index}`
        : `begins_with(${attribute}, :f${index})`;
    });
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
      ScanIndexForward: options.ascending ?? true,
      ReturnConsumedCapacity: 'TOTAL',
      ...(index === undefined ? { ConsistentRead: options.consistent ?? false } : { IndexName: index }),
      ...(options.limit === undefined ? {} : { Limit: options.limit }),
    };
    const startKey = decodeCursor(options.cursor, options);
    if (startKey !== undefined) input.ExclusiveStartKey = startKey;
    const output = await this.guard(this.documents.send(new QueryCommand(input)));
    const items = (output.Items ?? []).map(toItem);
    this.countRead(items.length, output.ConsumedCapacity?.CapacityUnits);
    const nextCursor = encodeCursor(output.LastEvaluatedKey);
    const live = items.filter((item) => this.live(item) !== undefined);
    return nextCursor === undefined ? { items: live } : { items: live, nextCursor };
  }

  /**
   * How many items a key condition selects (`Select: COUNT`, following pages). It reads them all, so it
   * is for ranges known to be small (expired TTL items are counted too).
   */
  async count(options: Pick<QueryOptions, 'index' | 'partition' | 'between'>): Promise<number> {
    const index = options.index;
    const values: Record<string, string> = { ':pk': options.partition };
    const names: Record<string, string> = { '#pk': index === undefined ? 'PK' : `${index}PK` };
    let condition = '#pk = :pk';
    if (options.between !== undefined) {
      condition += ' AND #sk BETWEEN :from AND :to';
      names['#sk'] = index === undefined ? 'SK' : `${index}SK`;
      values[':from'] = options.between[0];
      values[':to'] = options.between[1];
    }
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.guard(
        this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            Select: 'COUNT',
            ReturnConsumedCapacity: 'TOTAL',
            ...(index === undefined ? {} : { IndexName: index }),
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        ),
      );
      this.countRead(output.ScannedCount ?? 0, output.ConsumedCapacity?.CapacityUnits);
      total += output.Count ?? 0;
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return total;
  }

  /** Every item of a partition, following pages (for bounded partitions only). */
  async queryAll(options: Omit<QueryOptions, 'cursor' | 'limit'>): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.query({ ...options, cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
  }

  /** Reads many items by key in as few round trips as DynamoDB allows; order follows `keys`. */
  async batchGet(keys: readonly ItemKey[]): Promise<(Item | undefined)[]> {
    const unique = [...new Map(keys.map((key) => [keyId(key), key])).values()];
    const found = new Map<string, Item>();
    for (let start = 0; start < unique.length; start += maxBatchGet) {
      let pending: Record<string, unknown>[] = unique
        .slice(start, start + maxBatchGet)
        .map((key) => ({ PK: key.PK, SK: key.SK }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= maxBatchAttempts)
          throw unavailable(new Error('DynamoDB left keys unprocessed after retries'));
        if (attempt > 0) await backoff(attempt);
        const output = await this.guard(
          this.documents.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        const items = (output.Responses?.[this.tableName] ?? []).map(toItem);
        this.countRead(items.length, sumCapacity(output.ConsumedCapacity));
        for (const item of items) found.set(keyId(item), item);
        pending = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return keys.map((key) => {
      const item = found.get(keyId(key));
      return item === undefined ? undefined : this.live(item);
    });
  }

  /** Writes many items unconditionally (idempotent puts with deterministic keys). */
  async batchPut(items: readonly Item[]): Promise<void> {
    await this.batchWrite(items.map((item) => ({ PutRequest: { Item: item } })));
  }

  /** Deletes many items. */
  async batchDelete(keys: readonly ItemKey[]): Promise<void> {
    await this.batchWrite(keys.map((key) => ({ DeleteRequest: { Key: { PK: key.PK, SK: key.SK } } })));
  }

  /**
   * Puts the item only if no item has its key: the commit item of a multi-item write. Returns false,
   * and changes nothing, when the key is taken.
   */
  async putIfAbsent(item: Item): Promise<boolean> {
    return this.conditionalPut({ Item: item, ConditionExpression: 'attribute_not_exists(PK)' });
  }

  /**
   * Puts the item unless another item holds its key with a different `attribute` value: the claim of
   * a staged write (the first writer owns the key; the same writer may write again). Returns false,
   * and changes nothing, when someone else holds the claim.
   */
  async putIfAbsentOrSame(item: Item, attribute: string): Promise<boolean> {
    return this.conditionalPut({
      Item: item,
      ConditionExpression: 'attribute_not_exists(PK) OR #claim = :claim',
      ExpressionAttributeNames: { '#claim': attribute },
      ExpressionAttributeValues: { ':claim': item[attribute] },
    });
  }

  /** A conditional put: true when written, false (nothing changed) when the condition failed. */
  private async conditionalPut(
    input: Omit<PutCommandInput, 'TableName' | 'ReturnConsumedCapacity'>,
  ): Promise<boolean> {
    return this.conditionalWrite(() =>
      this.guard(
        this.documents.send(
          new PutCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' }),
        ),
      ),
    );
  }

  /** Runs a conditional write: true when written, false (counted, nothing changed) when the condition failed. */
  private async conditionalWrite(
    send: () => Promise<{ ConsumedCapacity?: { CapacityUnits?: number | undefined } | undefined }>,
  ): Promise<boolean> {
    try {
      const output = await send();
      this.countWrite(1, output.ConsumedCapacity?.CapacityUnits);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        this.stats.requests++;
        return false;
      }
      throw error;
    }
  }

  /**
   * Optimistic locking: writes the item with `revision` = expected + 1 only if the stored revision is
   * still `expectedRevision` (0 means the item must not exist yet).
   */
  async putWithRevision(item: Item, expectedRevision: number): Promise<Item> {
    const next = { ...item, revision: expectedRevision + 1 };
    try {
      const output = await this.guard(
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            ...(expectedRevision === 0
              ? { ConditionExpression: 'attribute_not_exists(PK)' }
              : {
                  ConditionExpression: '#revision = :expected',
                  ExpressionAttributeNames: { '#revision': 'revision' },
                  ExpressionAttributeValues: { ':expected': expectedRevision },
                }),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      this.countWrite(1, output.ConsumedCapacity?.CapacityUnits);
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConcurrentModificationError(
          'CONCURRENT_MODIFICATION',
          'The resource was changed by someone else; read it again and retry.',
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Updates attributes of one item in place (creating it unless a condition forbids), so writers of
   * different attributes — a record and the string sets next to it — never overwrite each other.
   * Returns false, changing nothing, when the condition does not hold.
   */
  async update(key: ItemKey, options: UpdateOptions): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const name = (attribute: string): string => {
      const placeholder = `#a${Object.keys(names).length}`;
      names[placeholder] = attribute;
      return placeholder;
    };
    const value = (v: unknown): string => {
      const placeholder = `:v${Object.keys(values).length}`;
      values[placeholder] = v;
      return placeholder;
    };
    const sets = Object.entries(options.set ?? {}).map(([a, v]) => `${name(a)} = ${value(v)}`);
    for (const [a, v] of Object.entries(options.setIfAbsent ?? {})) {
      const n = name(a);
      sets.push(`${n} = if_not_exists(${n}, ${value(v)})`);
    }
    let condition: string | undefined;
    const when = options.condition;
    if (when?.kind === 'revision') {
      const revision = name('revision');
      sets.push(`${revision} = ${value(when.expected + 1)}`);
      condition =
        when.expected === 0 ? `attribute_not_exists(${revision})` : `${revision} = ${value(when.expected)}`;
    } else if (when?.kind === 'exists') {
      condition = `attribute_exists(${name('PK')})`;
    } else if (when?.kind === 'has') {
      condition = `attribute_exists(${name(when.attribute)})`;
    } else if (when?.kind === 'not-after') {
      const attribute = name(when.attribute);
      condition = `attribute_not_exists(${attribute}) OR ${attribute} <= ${value(when.value)}`;
    }
    const adds = Object.entries(options.add ?? {})
      .filter(([, v]) => typeof v === 'number' || v.size > 0)
      .map(([a, v]) => `${name(a)} ${value(typeof v === 'number' ? v : new Set(v))}`);
    const deletes = Object.entries(options.delete ?? {})
      .filter(([, v]) => v.size > 0)
      .map(([a, v]) => `${name(a)} ${value(new Set(v))}`);
    const clauses = [
      sets.length === 0 ? '' : `SET ${sets.join(', ')}`,
      adds.length === 0 ? '' : `ADD ${adds.join(', ')}`,
      deletes.length === 0 ? '' : `DELETE ${deletes.join(', ')}`,
    ].filter((clause) => clause !== '');
    if (clauses.length === 0) return true;
    return this.conditionalWrite(() =>
      this.guard(
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { PK: key.PK, SK: key.SK },
            UpdateExpression: clauses.join(' '),
            ExpressionAttributeNames: names,
            ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
            ...(condition === undefined ? {} : { ConditionExpression: condition }),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  /** Puts one item unconditionally. */
  async put(item: Item): Promise<void> {
    const output = await this.guard(
      this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: item, ReturnConsumedCapacity: 'TOTAL' }),
      ),
    );
    this.countWrite(1, output.ConsumedCapacity?.CapacityUnits);
  }

  /** Deletes one item. */
  async delete(key: ItemKey): Promise<void> {
    const output = await this.guard(
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { PK: key.PK, SK: key.SK },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.countWrite(1, output.ConsumedCapacity?.CapacityUnits);
  }

  private async batchWrite(requests: readonly Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < requests.length; start += maxBatchWrite) {
      let pending = requests.slice(start, start + maxBatchWrite);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= maxBatchAttempts)
          throw unavailable(new Error('DynamoDB left writes unprocessed after retries'));
        if (attempt > 0) await backoff(attempt);
        const output = await this.guard(
          this.documents.send(
            new BatchWriteCommand({
              RequestItems: { [this.tableName]: pending },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        const unprocessed = output.UnprocessedItems?.[this.tableName] ?? [];
        this.countWrite(pending.length - unprocessed.length, sumCapacity(output.ConsumedCapacity));
        pending = unprocessed;
      }
    }
  }

  /** Awaits a DynamoDB request; a failure worth retrying (server fault, throttling, no connection) becomes a 503. */
  private async guard<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      throw isUnavailable(error) ? unavailable(error) : error;
    }
  }

  private live(item: Item): Item | undefined {
    const expiresAt = item.expiresAt;
    return typeof expiresAt === 'number' && expiresAt * 1000 <= this.now().getTime() ? undefined : item;
  }

  private countRead(items: number, capacity: number | undefined): void {
    this.stats.requests++;
    this.stats.itemsRead += items;
    this.stats.readCapacityUnits += capacity ?? 0;
  }

  private countWrite(items: number, capacity: number | undefined): void {
    this.stats.requests++;
    this.stats.itemsWritten += items;
    this.stats.writeCapacityUnits += capacity ?? 0;
  }
}

function toItem(record: Record<string, unknown>): Item {
  const { PK, SK } = record;
  if (typeof PK !== 'string' || typeof SK !== 'string') throw new Error('item without string PK/SK');
  return { ...record, PK, SK };
}

function keyId(key: ItemKey): string {
  return `${key.PK}\u0000${key.SK}`;
}

function sumCapacity(consumed: readonly { CapacityUnits?: number | undefined }[] | undefined): number {
  return (consumed ?? []).reduce((total, entry) => total + (entry.CapacityUnits ?? 0), 0);
}

function backoff(attempt: number): Promise<void> {
  const delay = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, delay));
}

/** Client-side faults that mean "not now" rather than "never": DynamoDB throttling. */
const throttlingErrors = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
/** Socket errors: the endpoint (the embedded server, or DynamoDB through the network) did not answer. */
const connectionErrors = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * Whether DynamoDB failed on its side after the client's own retries: a 5xx (the embedded server answers
 * 500 for a full disk or a damaged file), throttling, or no connection. Everything else (validation, a
 * missing table, a failed condition) is a bug or handled by the caller, and stays as it is.
 */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const fault = '$fault' in error ? error.$fault : undefined;
  const code = 'code' in error ? error.code : undefined;
  return (
    fault === 'server' ||
    throttlingErrors.has(error.name) ||
    error.name === 'TimeoutError' ||
    (typeof code === 'string' && connectionErrors.has(code))
  );
}

function unavailable(cause: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError('STORAGE_UNAVAILABLE', 'The storage is unavailable; retry.', {
    cause,
  });
}
