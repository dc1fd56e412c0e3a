import { describe, expect, it } from 'vitest';
import { openLineageCodes } from '../../../lib/contracts/openlineage/codes.js';
import { normalizeEventTime } from '../../../lib/contracts/openlineage/event-time.js';
import { parseLineageEvent } from '../../../lib/contracts/openlineage/parse.js';

const RUN_ID = 'd46e465b-d358-4d32-83d4-df660ff614dd';
const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/airflow';

function runEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'COMPLETE',
    eventTime: '2024-05-01T10:00:00.123456Z',
    producer: PRODUCER,
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: RUN_ID },
    job: { namespace: 'airflow', name: 'etl.orders' },
    inputs: [{ namespace: 's3://lake', name: 'raw/orders' }],
    outputs: [{ namespace: 'postgres://db:5432', name: 'mart.public.orders' }],
    ...overrides,
  };
}

function accepted(json: unknown) {
  const result = parseLineageEvent(json);
  if (!result.ok) throw new Error(`expected the event to be accepted: ${JSON.stringify(result.problems)}`);
  return result.event;
}

describe('parseLineageEvent: refusals', () => {
  it.each<[string, unknown, string, string | undefined]>([
    ['text that is not JSON', '{"eventType": ', 'OL_NOT_JSON', undefined],
    ['an array', [runEvent()], 'OL_NOT_OBJECT', undefined],
    ['null', null, 'OL_NOT_OBJECT', undefined],
    ['a JSON string of a number', '42', 'OL_NOT_OBJECT', undefined],
    ['a RunEvent without run', runEvent({ run: undefined }), 'OL_MISSING_RUN_ID', 'run.runId'],
    ['a run without runId', runEvent({ run: { facets: {} } }), 'OL_MISSING_RUN_ID', 'run.runId'],
    ['an empty runId', runEvent({ run: { runId: '' } }), 'OL_MISSING_RUN_ID', 'run.runId'],
    ['a blank runId', runEvent({ run: { runId: '   ' } }), 'OL_MISSING_RUN_ID', 'run.runId'],
    ['a numeric runId', runEvent({ run: { runId: 42 } }), 'OL_INVALID_RUN_ID', 'run.runId'],
    ['run that is a string', runEvent({ run: RUN_ID }), 'OL_INVALID_FIELD', 'run'],
    ['a RunEvent without job', runEvent({ job: undefined }), 'OL_MISSING_JOB', 'job'],
    ['a job without namespace', runEvent({ job: { name: 'etl' } }), 'OL_MISSING_FIELD', 'job.namespace'],
    [
      'a job with a blank name',
      runEvent({ job: { namespace: 'airflow', name: '  ' } }),
      'OL_MISSING_FIELD',
      'job.name',
    ],
    [
      'a job name that is a number',
      runEvent({ job: { namespace: 'airflow', name: 7 } }),
      'OL_INVALID_FIELD',
      'job.name',
    ],
    ['no eventTime', runEvent({ eventTime: undefined }), 'OL_MISSING_FIELD', 'eventTime'],
    [
      'an eventTime that is not a date',
      runEvent({ eventTime: 'yesterday' }),
      'OL_INVALID_EVENT_TIME',
      'eventTime',
    ],
    [
      'an impossible date',
      runEvent({ eventTime: '2024-02-30T10:00:00Z' }),
      'OL_INVALID_EVENT_TIME',
      'eventTime',
    ],
    [
      'an epoch number as eventTime',
      runEvent({ eventTime: 1714557600 }),
      'OL_INVALID_EVENT_TIME',
      'eventTime',
    ],
    ['a numeric eventType', runEvent({ eventType: 3 }), 'OL_INVALID_EVENT_TYPE', 'eventType'],
    [
      'inputs that are not an array',
      runEvent({ inputs: { namespace: 'a', name: 'b' } }),
      'OL_INVALID_FIELD',
      'inputs',
    ],
    [
      'an input without namespace',
      runEvent({ inputs: [{ name: 'x' }] }),
      'OL_MISSING_FIELD',
      'inputs[0].namespace',
    ],
    [
      'an output without name',
      runEvent({ outputs: [{}, { namespace: 'n' }] }),
      'OL_MISSING_FIELD',
      'outputs[1].name',
    ],
    ['an input that is a string', runEvent({ inputs: ['s3://lake/raw'] }), 'OL_INVALID_FIELD', 'inputs[0]'],
    [
      'run facets that are an array',
      runEvent({ run: { runId: RUN_ID, facets: [] } }),
      'OL_INVALID_FIELD',
      'run.facets',
    ],
    ['a producer that is not a string', runEvent({ producer: 1 }), 'OL_INVALID_FIELD', 'producer'],
    [
      'a DatasetEvent without namespace',
      { eventTime: '2024-05-01T10:00:00Z', dataset: { name: 'x' } },
      'OL_MISSING_FIELD',
      'dataset.namespace',
    ],
    [
      'a schemaURL naming DatasetEvent without a dataset',
      {
        eventTime: '2024-05-01T10:00:00Z',
        schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      },
      'OL_MISSING_FIELD',
      'dataset',
    ],
    [
      'a START with a job but no run',
      { eventType: 'START', eventTime: '2024-05-01T10:00:00Z', job: { namespace: 'a', name: 'b' } },
      'OL_MISSING_RUN_ID',
      'run.runId',
    ],
  ])('refuses %s', (_case, json, code, path) => {
    const result = parseLineageEvent(json);

    expect(result.ok).toBe(false);
    const expected = path === undefined ? { code } : { code, path };
    if (!result.ok) expect(result.problems).toContainEqual(expect.objectContaining(expected));
  });

  it('reports every problem of an event at once', () => {
    const result = parseLineageEvent({ eventTime: 'x', run: { runId: 7 }, job: { namespace: 'a' } });

    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual([
      'eventTime',
      'run.runId',
      'job.name',
    ]);
  });

  it('refuses text larger than the limit before parsing it', () => {
    const result = parseLineageEvent(JSON.stringify(runEvent()), { maxBytes: 100 });

    expect(result).toMatchObject({ ok: false, problems: [{ code: 'OL_TOO_LARGE' }] });
  });

  it('describes every code in one line', () => {
    for (const description of Object.values(openLineageCodes)) expect(description).toMatch(/^[^\n]+\.$/);
  });
});

describe('parseLineageEvent: leniency, as Marquez', () => {
  it('normalises a complete RunEvent: UTC millisecond time, lower-case run id, IO', () => {
    const event = accepted(runEvent({ run: { runId: RUN_ID.toUpperCase() } }));

    expect(event).toMatchObject({
      kind: 'run',
      eventType: 'COMPLETE',
      eventTime: '2024-05-01T10:00:00.123Z',
      producer: PRODUCER,
      run: { runId: RUN_ID, facets: {} },
      job: { namespace: 'airflow', name: 'etl.orders' },
      inputs: [{ namespace: 's3://lake', name: 'raw/orders', facets: {}, inputFacets: {} }],
      outputs: [{ namespace: 'postgres://db:5432', name: 'mart.public.orders', outputFacets: {} }],
    });
  });

  it('reads an event without schemaURL as a RunEvent', () => {
    const event = accepted(runEvent({ schemaURL: undefined }));

    expect(event.kind).toBe('run');
    expect(event.schemaURL).toBeUndefined();
  });

  // Expected values computed with Java 17: `UUID.nameUUIDFromBytes(runId.getBytes())`, Marquez's runToUuid.
  it.each([
    ['manual__2024-05-01', 'd71dc922-ffef-31c7-8a58-1ee3b8d6e54e'],
    ['my-run-1', '9eaf075a-7d72-3143-8040-9cf47f401b86'],
    ['ünï', '3241a66f-d412-338b-a1bb-6f5a732e1a29'],
  ])('maps the run id %s, not a UUID, to the UUID Marquez gives it (%s)', (runId, uuid) => {
    expect(accepted(runEvent({ run: { runId } })).run?.runId).toBe(uuid);
  });

  it('maps a parent run id that is not a UUID the same way', () => {
    const parent = { run: { runId: 'my-run-1' }, job: { namespace: 'airflow', name: 'dag' } };
    const event = accepted(runEvent({ run: { runId: RUN_ID, facets: { parent } } }));

    expect(event.run?.known.parent?.run.runId).toBe('9eaf075a-7d72-3143-8040-9cf47f401b86');
    expect(event.run?.facets.parent).toEqual(parent);
  });

  it.each([
    ['compleTe', 'COMPLETE'],
    ['Fail', 'FAIL'],
    ['start', 'START'],
    [' running ', 'RUNNING'],
    ['abort', 'ABORT'],
    ['other', 'OTHER'],
  ])('reads eventType %s in any case as %s', (text, eventType) => {
    expect(accepted(runEvent({ eventType: text })).eventType).toBe(eventType);
  });

  it.each(['FAILED', 'SUCCESS', ''])(
    'reads the eventType %j Marquez does not know as a transition that is not terminal (RUNNING)',
    (text) => {
      expect(accepted(runEvent({ eventType: text })).eventType).toBe('RUNNING');
    },
  );

  it('keeps the eventType exactly as sent in the raw event', () => {
    expect(accepted(runEvent({ eventType: 'compleTe' })).raw.eventType).toBe('compleTe');
  });

  it('accepts a RunEvent without eventType (it only adds facets)', () => {
    expect(accepted(runEvent({ eventType: undefined })).eventType).toBeUndefined();
  });

  it('records an empty producer when the producer is missing', () => {
    expect(accepted(runEvent({ producer: undefined })).producer).toBe('');
  });

  it.each([
    ['2024-05-01T10:00:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00.123456789', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01T12:00:00.5+02:00', '2024-05-01T10:00:00.500Z'],
    ['2024-05-01T05:30:00-0430', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01 10:00:00Z', '2024-05-01T10:00:00.000Z'],
  ])('reads eventTime %s as %s', (text, normalized) => {
    expect(accepted(runEvent({ eventTime: text })).eventTime).toBe(normalized);
  });

  it('keeps unknown facets and invalid known facets as opaque JSON', () => {
    const garbage = { fields: 'not-an-array' };
    const event = accepted(
      runEvent({
        run: { runId: RUN_ID, facets: { spark_version: { version: '3.5' }, nominalTime: 12 } },
        outputs: [{ namespace: 'n', name: 'd', facets: { schema: garbage, custom: [1, 2] } }],
      }),
    );

    expect(event.run?.facets).toEqual({ spark_version: { version: '3.5' }, nominalTime: 12 });
    expect(event.run?.known.nominalTime).toBeUndefined();
    expect(event.outputs[0]?.facets).toEqual({ schema: garbage, custom: [1, 2] });
    expect(event.outputs[0]?.known.schema).toBeUndefined();
  });

  it('types valid known facets, nested schema fields and column lineage included', () => {
    const event = accepted(
      runEvent({
        run: {
          runId: RUN_ID,
          facets: {
            parent: { run: { runId: RUN_ID }, job: { namespace: 'airflow', name: 'etl' } },
            errorMessage: { message: 'boom', programmingLanguage: 'python' },
          },
        },
        job: {
          namespace: 'airflow',
          name: 'etl.orders',
          facets: { jobType: { processingType: 'BATCH', integration: 'AIRFLOW' } },
        },
        outputs: [
          {
            namespace: 'n',
            name: 'd',
            facets: {
              schema: {
                fields: [{ name: 'address', type: 'struct', fields: [{ name: 'city', type: 'string' }] }],
              },
              columnLineage: {
                fields: {
                  city: {
                    inputFields: [
                      { namespace: 'n', name: 'src', field: 'town', transformations: [{ type: 'DIRECT' }] },
                    ],
                  },
                },
                dataset: [{ namespace: 'n', name: 'src', field: 'country' }],
              },
            },
          },
        ],
      }),
    );

    expect(event.run?.known.parent?.job.name).toBe('etl');
    expect(event.run?.known.errorMessage?.message).toBe('boom');
    expect(event.job?.known.jobType?.processingType).toBe('BATCH');
    expect(event.outputs[0]?.known.schema?.fields?.[0]?.fields?.[0]?.name).toBe('city');
    expect(event.outputs[0]?.known.columnLineage?.fields.city?.inputFields[0]?.field).toBe('town');
  });

  it('does not type a facet marked _deleted', () => {
    const event = accepted(
      runEvent({
        job: { namespace: 'a', name: 'b', facets: { sql: { query: 'select 1', _deleted: true } } },
      }),
    );

    expect(event.job?.known.sql).toBeUndefined();
  });

  it('treats null inputs, outputs and facets as absent', () => {
    const event = accepted(runEvent({ inputs: null, outputs: null, run: { runId: RUN_ID, facets: null } }));

    expect(event).toMatchObject({ inputs: [], outputs: [], run: { facets: {} } });
  });

  it('recognises a DatasetEvent by its shape and by its schemaURL', () => {
    const byShape = accepted({
      eventTime: '2024-05-01T10:00:00Z',
      producer: PRODUCER,
      dataset: { namespace: 'n', name: 'd' },
    });
    const byUrl = accepted({
      eventTime: '2024-05-01T10:00:00Z',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: { namespace: 'n', name: 'd' },
      job: { namespace: 'ignored', name: 'ignored' },
    });

    expect(byShape).toMatchObject({ kind: 'dataset', dataset: { namespace: 'n', name: 'd' } });
    expect(byUrl.kind).toBe('dataset');
  });

  it('recognises a JobEvent by its shape (a job, no run, no eventType)', () => {
    const event = accepted({
      eventTime: '2024-05-01T10:00:00Z',
      job: { namespace: 'a', name: 'b' },
      inputs: [{ namespace: 'n', name: 'src' }],
    });

    expect(event).toMatchObject({ kind: 'job', job: { name: 'b' }, inputs: [{ name: 'src' }] });
    expect(event.run).toBeUndefined();
  });

  it('parses JSON text (a Lambda body) and keeps the received object as raw', () => {
    const raw = runEvent({ extra: { kept: true } });

    expect(accepted(JSON.stringify(raw)).raw).toEqual(raw);
  });
});

describe('normalizeEventTime', () => {
  it.each(['2024-13-01T00:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T10:00:00+25:00', '2024-05-01', ''])(
    'refuses %s',
    (text) => {
      expect(normalizeEventTime(text)).toBeUndefined();
    },
  );
});
