import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPackagesApi } from '../../../lambdas/packages-api/handler.js';
import { packageHeadItem } from '../../../lib/adapters/dynamodb/package-heads.js';
import type { ApiHandler } from '../../../lib/api/http-handler.js';
import type { PackageHead } from '../../../lib/domain/registry/model.js';
import { loadConfig } from '../../../lib/runtime/config.js';
import { createDependencies } from '../../../lib/runtime/dependencies.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

let harness: TestTable;
let handler: ApiHandler;

const head = (
  namespace: string,
  name: string,
  kind: PackageHead['kind'],
  labels: Record<string, string>,
): PackageHead => ({
  namespace,
  name,
  kind,
  latestVersion: '1.0.0',
  labels,
  versions: {
    '1.0.0': {
      digest: `sha256:${'a'.repeat(64)}`,
      registeredAt: '2026-11-01T00:00:00.000Z',
      registrationId: 'r-1',
    },
  },
  updatedAt: '2026-11-01T00:00:00.000Z',
  revision: 1,
});

beforeAll(async () => {
  harness = await startTestTable();
  await harness.table.batchPut([
    packageHeadItem(head('analytics', 'enrich', 'Transform', { team: 'data' })),
    packageHeadItem(head('analytics', 'raw-events', 'DataSet', { team: 'data' })),
    packageHeadItem(head('billing', 'invoices', 'Transform', { team: 'finance' })),
    packageHeadItem(head('billing', 'ledger', 'DataSet', { 'app.kubernetes.io/part-of': 'finance' })),
    ...Array.from({ length: 7 }, (_, index) =>
      packageHeadItem(head('bulk', `pkg-${index}`, 'Connector', {})),
    ),
  ]);
  const config = loadConfig({
    TABLE_NAME: harness.table.tableName,
    DYNAMODB_ENDPOINT: harness.endpoint,
    LOG_LEVEL: 'SILENT',
    // Roles are not what these tests are about (test/unit/api/authorization-matrix.test.ts is).
    ACCESS_CONTROL: 'off',
  });
  handler = createPackagesApi(createDependencies(config, { logger: new Logger({ logLevel: 'SILENT' }) }));
});
afterAll(async () => harness.close());

const list = async (query: Record<string, string> = {}) => {
  const response = await handler(apiEvent({ resource: '/v1/packages', query }), lambdaContext());
  return {
    status: response.statusCode,
    body: JSON.parse(response.body) as Record<string, unknown>,
    headers: response.headers,
  };
};

const names = (body: Record<string, unknown>) =>
  (body.items as { namespace: string; name: string }[]).map((item) => `${item.namespace}/${item.name}`);

describe('GET /v1/packages', () => {
  it('lists every package ordered by namespace and name', async () => {
    const { status, body } = await list({ limit: '100' });
    expect(status).toBe(200);
    expect(names(body)).toEqual([
      'analytics/enrich',
      'analytics/raw-events',
      'billing/invoices',
      'billing/ledger',
      ...Array.from({ length: 7 }, (_, index) => `bulk/pkg-${index}`),
    ]);
  });

  it('filters by namespace, kind and label', async () => {
    expect(names((await list({ namespace: 'analytics' })).body)).toEqual([
      'analytics/enrich',
      'analytics/raw-events',
    ]);
    expect(names((await list({ kind: 'Transform' })).body)).toEqual(['analytics/enrich', 'billing/invoices']);
    expect(names((await list({ label: 'team=finance' })).body)).toEqual(['billing/invoices']);
    expect(
      names((await list({ kind: 'Transform', namespace: 'analytics', label: 'team=data' })).body),
    ).toEqual(['analytics/enrich']);
  });

  it('filters by a label whose key holds dots and slashes', async () => {
    const { status, body } = await list({ label: 'app.kubernetes.io/part-of=finance' });

    expect(status).toBe(200);
    expect(names(body)).toEqual(['billing/ledger']);
  });

  it('paginates with nextCursor until the last page', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { body } = await list({ limit: '3', ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...names(body));
      cursor = typeof body.nextCursor === 'string' ? body.nextCursor : undefined;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(11);
    expect(new Set(seen).size).toBe(11);
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  it('answers 400 problem+json naming the parameter for a bad kind, limit or cursor', async () => {
    for (const [query, path] of [
      [{ kind: 'Pipeline' }, 'query.kind'],
      [{ limit: '1000' }, 'query.limit'],
      [{ label: 'no-equals-sign' }, 'query.label'],
      [{ cursor: 'garbage' }, 'cursor'],
      // A cursor of another list (here: the registrations index) is not one this list returned.
      [
        {
          cursor: Buffer.from(
            JSON.stringify({ PK: 'REG#r-1', SK: '#REG', GSI1PK: 'REGS', GSI1SK: 'x' }),
          ).toString('base64url'),
        },
        'cursor',
      ],
      [
        {
          kind: 'Transform',
          cursor: Buffer.from(
            JSON.stringify({ PK: 'PKG#a#b', SK: '#PACKAGE', GSI1PK: 'PACKAGES', GSI1SK: 'a#b' }),
          ).toString('base64url'),
        },
        'cursor',
      ],
    ] as const) {
      const { status, body, headers } = await list(query);
      expect(status).toBe(400);
      expect(headers?.['content-type']).toBe('application/problem+json');
      expect(body.errors).toEqual([expect.objectContaining({ path })]);
    }
  });
});
