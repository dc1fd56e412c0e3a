import { describe, expect, it } from 'vitest';
import { listDataSetsQuerySchema } from '../../../lib/contracts/api/datasets.js';
import { listPackagesQuerySchema } from '../../../lib/contracts/api/packages.js';

// A namespace filter becomes the sort-key prefix of an index query; DynamoDB refuses key values over
// 1 KiB with a ValidationException, so the filter is held to the length a namespace may have at all.
describe.each([
  ['GET /v1/packages', listPackagesQuerySchema],
  ['GET /v1/datasets', listDataSetsQuerySchema],
])('%s namespace filter', (_route, schema) => {
  it('accepts a namespace of 253 characters, as the path parameters do', () => {
    expect(schema.safeParse({ namespace: 'n'.repeat(253) }).success).toBe(true);
  });

  it('refuses a longer one naming namespace, whatever the characters weigh in UTF-8', () => {
    for (const namespace of ['n'.repeat(254), '𝔫'.repeat(254)]) {
      const result = schema.safeParse({ namespace });
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path)).toEqual([['namespace']]);
    }
  });
});
