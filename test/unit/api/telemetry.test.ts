import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiHandler } from '../../../lib/api/http-handler.js';
import { accessDependencies } from '../../support/access.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

/** The EMF documents Powertools Metrics printed while `run` ran. */
async function emfDuring(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

let testTable: TestTable;
beforeAll(async () => {
  testTable = await startTestTable();
});
afterAll(() => testTable.close());

describe('API handler telemetry', () => {
  const handlerWith = (metrics: Metrics) =>
    createApiHandler(
      'packages-api',
      {
        listPackages: async () => ({ status: 200, body: { items: [] } }),
        getPackage: async () => ({ status: 200, body: {} }),
        getPackageVersion: async () => ({ status: 200, body: {} }),
        listDataSets: async () => ({ status: 200, body: { items: [] } }),
        getDataSet: async () => ({ status: 200, body: {} }),
        getPipeline: async () => ({ status: 200, body: {} }),
        listRegistrations: async () => ({ status: 200, body: { items: [] } }),
      },
      { ...accessDependencies(testTable.table, { mode: 'off' }), metrics },
    );

  it('counts each request by operation, and refusals separately', async () => {
    const metrics = new Metrics({ namespace: 'DataKitTest', serviceName: 'datakit' });
    const handler = handlerWith(metrics);
    const documents = await emfDuring(async () => {
      await handler(apiEvent({ resource: '/v1/packages' }), lambdaContext());
      await handler(apiEvent({ resource: '/v1/packages', query: { limit: '0' } }), lambdaContext());
    });
    expect(documents).toHaveLength(2);
    expect(documents[0]).toMatchObject({ operation: 'listPackages', Requests: 1 });
    expect(documents[0]).not.toHaveProperty('Refused');
    expect(documents[1]).toMatchObject({ operation: 'listPackages', Requests: 1, Refused: 1 });
  });
});
