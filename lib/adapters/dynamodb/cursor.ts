import * as z from 'zod';
import { keyAttributeNames } from '../../contracts/table.js';
import { ValidationError } from '../../domain/errors.js';

// DynamoDB's own limits on key values: a crafted cursor breaking them would reach DynamoDB as an
// ExclusiveStartKey it refuses with a ValidationException (a 500), so they are checked here.
const maxPartitionKeyBytes = 2048;
const maxSortKeyBytes = 1024;

const keyValueSchema = z
  .string()
  .min(1)
  // A lone surrogate cannot be encoded as UTF-8; DynamoDB would refuse it (or see another key).
  .refine((value) => Buffer.from(value, 'utf8').toString('utf8') === value, 'not well-formed text');

const lastEvaluatedKeySchema = z
  .record(z.string(), keyValueSchema)
  .refine(
    (key) => Object.keys(key).every((name) => keyAttributeNames.includes(name)),
    'unknown key attribute',
  )
  .refine(
    (key) =>
      Object.entries(key).every(
        ([name, value]) =>
          Buffer.byteLength(value, 'utf8') <= (name.endsWith('PK') ? maxPartitionKeyBytes : maxSortKeyBytes),
      ),
    'key value over DynamoDB’s size limit',
  );

/** Turns DynamoDB's LastEvaluatedKey into the opaque `nextCursor` of a page. */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | undefined {
  if (lastEvaluatedKey === undefined) return undefined;
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

/** The key range a query reads: a cursor must point into it. */
export interface CursorScope {
  readonly index?: string | undefined;
  readonly partition: string;
  readonly beginsWith?: string | undefined;
  readonly between?: readonly [string, string] | undefined;
}

/**
 * Reads a caller-supplied cursor back for the query it is meant to continue. Anything that is not one
 * of ours, or that points outside this query's index, partition or sort-key range (a cursor of another
 * list, which DynamoDB would refuse with an error of its own), is a 400 naming `cursor`.
 */
export function decodeCursor(
  cursor: string | undefined,
  scope: CursorScope,
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError('INVALID_CURSOR', 'The cursor is not one this list returned.', {
    problems: [{ code: 'INVALID_CURSOR', path: 'cursor', message: 'not a cursor returned by this list' }],
  });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw Object.assign(invalid, { cause });
  }
  const parsed = lastEvaluatedKeySchema.safeParse(json);
  // Only the exact text encodeCursor produces: Buffer.from skips characters that are not base64url and
  // zod drops keys such as `__proto__`, so other texts could decode to a key without being one we issued.
  if (!parsed.success || encodeCursor(parsed.data) !== cursor || !inScope(parsed.data, scope)) throw invalid;
  return parsed.data;
}

function inScope(key: Readonly<Record<string, string>>, scope: CursorScope): boolean {
  const pkName = scope.index === undefined ? 'PK' : `${scope.index}PK`;
  const skName = scope.index === undefined ? 'SK' : `${scope.index}SK`;
  const expected = [...new Set(['PK', 'SK', pkName, skName])].sort().join(',');
  const sortKey = key[skName];
  if (
    Object.keys(key).sort().join(',') !== expected ||
    key[pkName] !== scope.partition ||
    sortKey === undefined
  ) {
    return false;
  }
  if (scope.beginsWith !== undefined) return sortKey.startsWith(scope.beginsWith);
  if (scope.between !== undefined) return sortKey >= scope.between[0] && sortKey <= scope.between[1];
  return true;
}
