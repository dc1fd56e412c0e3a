import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as fallback } from '../../../lambdas/fallback/handler.js';
import { handler as governanceApi } from '../../../lambdas/governance-api/handler.js';
import { handler as lineageApi } from '../../../lambdas/lineage-api/handler.js';
import { handler as lineageIngest } from '../../../lambdas/lineage-ingest/handler.js';
import { handler as packagesApi } from '../../../lambdas/packages-api/handler.js';
import { handler as registrationWorker } from '../../../lambdas/registration-worker/handler.js';
import { handler as registrationsApi } from '../../../lambdas/registrations-api/handler.js';
import { handler as systemApi } from '../../../lambdas/system-api/handler.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

// The exported `handler`s as Lambda runs them: configured from the environment, wired by the Lambda
// composition root (with the X-Ray Tracer and CloudWatch Metrics), against the embedded DynamoDB.
// Only requests that need no other AWS service succeed here; the rest are refused before reaching one.

let harness: TestTable;

beforeAll(async () => {
  harness = await startTestTable();
  vi.stubEnv('TABLE_NAME', harness.table.tableName);
  vi.stubEnv('DYNAMODB_ENDPOINT', harness.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await harness.close();
});

const json = (body: string): unknown => JSON.parse(body);

describe('Lambda entry points', () => {
  it('system-api answers /healthz after reading the table', async () => {
    const response = await systemApi(apiEvent({ resource: '/healthz' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toMatchObject({ status: 'ok' });
  });

  it('system-api serves the OpenAPI document of every route', async () => {
    const response = await systemApi(apiEvent({ resource: '/openapi.json' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toMatchObject({ openapi: '3.1.0', paths: { '/v1/packages': {} } });
  });

  it('packages-api lists packages from the table', async () => {
    const response = await packagesApi(apiEvent({ resource: '/v1/packages' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toMatchObject({ items: [] });
  });

  it('packages-api refuses a bad query with the field path', async () => {
    const response = await packagesApi(
      apiEvent({ resource: '/v1/packages', query: { limit: '0' } }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(400);
    expect(json(response.body)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'query.limit' }],
    });
  });

  it('lineage-api lists namespaces from the table', async () => {
    const response = await lineageApi(apiEvent({ resource: '/api/v1/namespaces' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({ namespaces: [] });
  });

  it('lineage-ingest refuses an event without a run with an OL_* code', async () => {
    const response = await lineageIngest(
      apiEvent({ method: 'POST', resource: '/api/v1/lineage', body: '{}' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(400);
    expect(json(response.body)).toMatchObject({ code: expect.stringMatching(/^OL_/) });
  });

  it('registrations-api refuses a body without a reference', async () => {
    const response = await registrationsApi(
      apiEvent({ method: 'POST', resource: '/v1/registrations', body: '{}' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(400);
    expect(json(response.body)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.reference' }],
    });
  });

  it('fallback answers 405 with Allow for a known path', async () => {
    const response = await fallback(
      apiEvent({ method: 'DELETE', resource: '/{proxy+}', path: '/v1/packages' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ allow: 'GET' });
  });

  it('governance-api builds the report from the table (registry, deployments, lineage graph)', async () => {
    const response = await governanceApi(
      apiEvent({ resource: '/v1/governance/report', query: { filter: 'pii=true' } }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toMatchObject({
      filter: { pii: true },
      packages: [],
      flows: [],
      violations: [],
      lineage: { complete: true, nodesRead: 0 },
    });
  });

  it('registration-worker drops an event that is not an ECR push', async () => {
    await expect(registrationWorker({ source: 'aws.s3' }, lambdaContext())).resolves.toBeUndefined();
  });
});
