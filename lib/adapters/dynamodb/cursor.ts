import { z } from 'zod';
import { keyAttributeNames } from '../../contracts/table.js';
import { ValidationError } from '../../domain/errors.js';

const lastEvaluatedKeySchema = z
  .record(z.string(), z.string())
  .refine(
    (key) => Object.keys(key).every((name) => keyAttributeNames.includes(name)),
    'unknown key attribute',
  );

/** Turns DynamoDB's LastEvaluatedKey into the opaque `nextCursor` of a page. */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | undefined {
  if (lastEvaluatedKey === undefined) return undefined;
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

/** Reads a caller-supplied cursor back; anything that is not one of ours is a 400 naming `cursor`. */
export function decodeCursor(cursor: string | undefined): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError('INVALID_CURSOR', 'The cursor is not one this API returned.', {
    problems: [{ code: 'INVALID_CURSOR', path: 'cursor', message: 'not a cursor returned by this API' }],
  });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw Object.assign(invalid, { cause });
  }
  const parsed = lastEvaluatedKeySchema.safeParse(json);
  if (!parsed.success) throw invalid;
  return parsed.data;
}
