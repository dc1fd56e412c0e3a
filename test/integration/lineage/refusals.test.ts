import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type LineageHarness, runEvent, startLineageHarness } from '../../support/lineage.js';

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

const valid = runEvent({
  runId: '3f5e83fa-3480-44ff-99c5-ff943904e5e8',
  eventTime: '2024-05-01T10:00:00Z',
  job: { namespace: 'refusals', name: 'j' },
});

/** Malformed events and the code and path each must be refused with. */
const corpus: readonly [string, string, string, string | undefined][] = [
  ['not JSON', '{"eventType": "START",', 'OL_NOT_JSON', undefined],
  ['a JSON array', '[]', 'OL_NOT_OBJECT', undefined],
  ['no run id', JSON.stringify({ ...valid, run: { facets: {} } }), 'OL_MISSING_RUN_ID', 'run.runId'],
  [
    'a run id that is a number',
    JSON.stringify({ ...valid, run: { runId: 7 } }),
    'OL_INVALID_RUN_ID',
    'run.runId',
  ],
  ['no job', JSON.stringify({ ...valid, job: undefined }), 'OL_MISSING_JOB', 'job'],
  [
    'a blank job name',
    JSON.stringify({ ...valid, job: { namespace: 'n', name: ' ' } }),
    'OL_MISSING_FIELD',
    'job.name',
  ],
  ['inputs that are not a list', JSON.stringify({ ...valid, inputs: {} }), 'OL_INVALID_FIELD', 'inputs'],
  [
    'an input without a name',
    JSON.stringify({ ...valid, inputs: [{ namespace: 'n' }] }),
    'OL_MISSING_FIELD',
    'inputs[0].name',
  ],
  [
    'an eventTime that is no date',
    JSON.stringify({ ...valid, eventTime: 'yesterday' }),
    'OL_INVALID_EVENT_TIME',
    'eventTime',
  ],
  [
    'an eventType that is not a string',
    JSON.stringify({ ...valid, eventType: ['COMPLETE'] }),
    'OL_INVALID_EVENT_TYPE',
    'eventType',
  ],
  [
    'a facets container that is a list',
    JSON.stringify({ ...valid, run: { runId: '3f5e83fa-3480-44ff-99c5-ff943904e5e8', facets: [] } }),
    'OL_INVALID_FIELD',
    'run.facets',
  ],
];

describe('POST /api/v1/lineage refusals', () => {
  it.each(corpus)('answers 400 problem+json for %s', async (_, body, code, path) => {
    const response = await h.post(undefined, { raw: body });

    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(json(response)).toMatchObject({
      status: 400,
      code,
      errors: [path === undefined ? { code } : { code, path }],
    });
  });

  it('accepts what Marquez accepts: no schemaURL, no eventType, a zone-less time, broken facets', async () => {
    const lenient = {
      eventTime: '2024-05-01T10:00:00.123456',
      run: {
        runId: '3F5E83FA-3480-44FF-99C5-FF943904E5E8',
        facets: { nominalTime: { nominalStartTime: 42 } },
      },
      job: { namespace: 'refusals', name: 'lenient', facets: { sql: 'not an object' } },
    };

    expect((await h.post(lenient)).statusCode).toBe(201);
    const run = json(
      await h.get('/api/v1/jobs/runs/{id}', {
        pathParameters: { id: '3f5e83fa-3480-44ff-99c5-ff943904e5e8' },
      }),
    );
    expect(run).toMatchObject({
      state: 'NEW',
      createdAt: '2024-05-01T10:00:00.123Z',
      facets: { nominalTime: { nominalStartTime: 42 } },
    });
  });

  it('answers 413 naming the limit for a body over 5 MiB, compressed or not', async () => {
    const huge = JSON.stringify({ ...valid, padding: 'x'.repeat(5 * 1024 * 1024) });

    const plain = await h.post(undefined, { raw: huge });
    const gzipped = await h.post(undefined, {
      raw: gzipSync(Buffer.from(huge)),
      headers: { 'content-encoding': 'gzip' },
    });

    for (const response of [plain, gzipped]) {
      expect(response.statusCode).toBe(413);
      expect(json(response)).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        detail: expect.stringContaining('5242880 bytes'),
      });
    }
  });

  it('answers 415 for a body that is not JSON by its content type', async () => {
    const response = await h.post(undefined, {
      raw: '<event/>',
      headers: { 'content-type': 'application/xml' },
    });

    expect(response.statusCode).toBe(415);
  });

  it('answers 413 for a batch of more than 100 events', async () => {
    const response = await h.postBatch(Array.from({ length: 101 }, () => valid));

    expect(response.statusCode).toBe(413);
    expect(json(response)).toMatchObject({ code: 'LINEAGE_BATCH_TOO_LARGE' });
  });
});
