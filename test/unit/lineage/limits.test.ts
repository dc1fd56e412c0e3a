import { describe, expect, it } from 'vitest';
import {
  maxColumnLineageFields,
  maxColumnLineageInputs,
  maxEventDatasetNameBytes,
  maxEventDatasets,
  maxEventNesting,
  maxNameBytes,
  maxSchemaFields,
  tooDeepPath,
  tooDeepTextPath,
} from '../../../lib/contracts/openlineage/limits.js';
import { parseLineageEvent } from '../../../lib/contracts/openlineage/parse.js';

const RUN_ID = 'd46e465b-d358-4d32-83d4-df660ff614dd';

function runEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'COMPLETE',
    eventTime: '2024-05-01T10:00:00Z',
    producer: 'test',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: RUN_ID },
    job: { namespace: 'airflow', name: 'etl.orders' },
    inputs: [],
    outputs: [],
    ...overrides,
  };
}

/** JSON text of a run event whose job carries facet `deep`: `levels` arrays nested in each other. */
function deepEventText(levels: number): string {
  const text = JSON.stringify(runEvent({ job: { namespace: 'n', name: 'j', facets: { deep: 'HERE' } } }));
  return text.replace('"HERE"', `${'['.repeat(levels)}${']'.repeat(levels)}`);
}

const datasets = (count: number, prefix = 'd') =>
  Array.from({ length: count }, (_, index) => ({ namespace: 'ns', name: `${prefix}${index}` }));

/** A struct-free schema of `count` fields. */
const schema = (count: number) => ({
  schema: { fields: Array.from({ length: count }, (_, index) => ({ name: `c${index}`, type: 'INT' })) },
});

function problems(json: unknown) {
  const result = parseLineageEvent(json);
  return result.ok ? [] : result.problems;
}

describe('nesting limit', () => {
  // The event is level 1, `job` 2, `facets` 3, `deep` 4: `levels` arrays take it to 3 + levels.
  const atLimit = maxEventNesting - 3;

  it(`accepts objects and arrays nested ${maxEventNesting} levels deep`, () => {
    expect(parseLineageEvent(deepEventText(atLimit)).ok).toBe(true);
  });

  it('refuses one level more with OL_TOO_DEEP, naming the first value too deep', () => {
    expect(problems(deepEventText(atLimit + 1))).toEqual([
      {
        code: 'OL_TOO_DEEP',
        path: `job.facets.deep${'[0]'.repeat(atLimit)}`,
        message: expect.stringContaining(`more than ${maxEventNesting}`),
      },
    ]);
  });

  it('refuses 5 000 and 1 000 000 levels (10 KB and 2 MB) without overflowing the stack', () => {
    for (const levels of [5_000, 1_000_000]) {
      expect(problems(deepEventText(levels))).toMatchObject([{ code: 'OL_TOO_DEEP' }]);
    }
  });

  it('measures the parsed value too (a batch hands events over parsed)', () => {
    let deep: unknown = [];
    for (let level = 0; level < 5_000; level++) deep = { a: deep };

    expect(problems(runEvent({ run: { runId: RUN_ID, facets: { deep } } }))).toMatchObject([
      { code: 'OL_TOO_DEEP', path: expect.stringMatching(/^run\.facets\.deep(\.a)+$/) },
    ]);
  });

  it('reports the first too-deep value in document order', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);

    expect(tooDeepPath({ a: { b: nest(3) }, c: nest(5) }, 4)).toBe('a.b[0][0]');
    expect(tooDeepPath({ a: 'flat', b: [1, 2, { c: {} }] }, 4)).toBeUndefined();
  });
});

describe('inputs and outputs', () => {
  it(`accepts ${maxEventDatasets} inputs and outputs together`, () => {
    const half = maxEventDatasets / 2;

    expect(problems(runEvent({ inputs: datasets(half, 'i'), outputs: datasets(half, 'o') }))).toEqual([]);
  });

  it('refuses one more with OL_TOO_MANY_DATASETS, naming the first dataset past the limit', () => {
    const half = maxEventDatasets / 2;
    const event = runEvent({ inputs: datasets(half, 'i'), outputs: datasets(half + 1, 'o') });

    expect(problems(event)).toEqual([
      { code: 'OL_TOO_MANY_DATASETS', path: `outputs[${half}]`, message: expect.any(String) },
    ]);
  });

  it(`accepts names of ${maxNameBytes} UTF-8 bytes and refuses longer ones with OL_NAME_TOO_LONG`, () => {
    const at = 'é'.repeat(maxNameBytes / 2);
    const past = `${at}x`;

    expect(
      problems(runEvent({ job: { namespace: at, name: at }, inputs: [{ namespace: at, name: at }] })),
    ).toEqual([]);
    expect(
      problems(runEvent({ job: { namespace: 'n', name: past }, outputs: [{ namespace: past, name: 'd' }] })),
    ).toMatchObject([
      { code: 'OL_NAME_TOO_LONG', path: 'job.name' },
      { code: 'OL_NAME_TOO_LONG', path: 'outputs[0].namespace' },
    ]);
  });

  it(`refuses dataset names over ${maxEventDatasetNameBytes} bytes together, naming where they pass it`, () => {
    // 64 datasets of 1 KiB (namespace 24 bytes + name 1000) fill the budget exactly.
    const named = (index: number) => ({
      namespace: `ns-${String(index).padStart(21, '0')}`,
      name: 'n'.repeat(1000),
    });
    const full = Array.from({ length: 64 }, (_, index) => named(index));

    expect(problems(runEvent({ inputs: full }))).toEqual([]);
    expect(problems(runEvent({ inputs: full, outputs: [{ namespace: 'x', name: 'y' }] }))).toEqual([
      { code: 'OL_DATASET_NAMES_TOO_LONG', path: 'outputs[0]', message: expect.any(String) },
    ]);
  });

  it('checks the dataset of a DatasetEvent', () => {
    const event = {
      eventTime: '2024-05-01T10:00:00Z',
      dataset: { namespace: 'n', name: 'x'.repeat(maxNameBytes + 1), facets: schema(maxSchemaFields + 1) },
    };

    expect(problems(event)).toMatchObject([
      { code: 'OL_NAME_TOO_LONG', path: 'dataset.name' },
      { code: 'OL_TOO_MANY_FIELDS', path: 'dataset.facets.schema.fields' },
    ]);
  });
});

describe('fields', () => {
  it(`accepts a schema of ${maxSchemaFields} fields, nested ones included, and refuses one more`, () => {
    const nested = {
      schema: {
        fields: [
          { name: 'struct', type: 'STRUCT', fields: schema(maxSchemaFields - 2).schema.fields },
          { name: 'last', type: 'INT' },
        ],
      },
    };
    const over = { schema: { fields: [...nested.schema.fields, { name: 'extra' }] } };

    expect(problems(runEvent({ outputs: [{ namespace: 'n', name: 'd', facets: nested }] }))).toEqual([]);
    expect(problems(runEvent({ inputs: [{ namespace: 'n', name: 'd', facets: over }] }))).toEqual([
      { code: 'OL_TOO_MANY_FIELDS', path: 'inputs[0].facets.schema.fields', message: expect.any(String) },
    ]);
  });

  it('keeps a schema facet it cannot type as opaque JSON, whatever its size', () => {
    const opaque = { schema: { fields: 'not a list', extra: schema(maxSchemaFields + 1).schema.fields } };

    expect(problems(runEvent({ inputs: [{ namespace: 'n', name: 'd', facets: opaque }] }))).toEqual([]);
  });

  it('bounds the column lineage of an event: output fields, then their input fields', () => {
    const lineage = (fields: number, inputsEach: number) => ({
      columnLineage: {
        fields: Object.fromEntries(
          Array.from({ length: fields }, (_, index) => [
            `f${index}`,
            {
              inputFields: Array.from({ length: inputsEach }, (_, input) => ({
                namespace: 'n',
                name: 'src',
                field: `c${input}`,
              })),
            },
          ]),
        ),
      },
    });
    const output = (facets: unknown, name = 'out') => ({ namespace: 'n', name, facets });
    const inputsEach = maxColumnLineageInputs / maxColumnLineageFields;

    expect(problems(runEvent({ outputs: [output(lineage(maxColumnLineageFields, inputsEach))] }))).toEqual(
      [],
    );
    expect(
      problems(
        runEvent({ outputs: [output(lineage(maxColumnLineageFields, 1)), output(lineage(1, 1), 'b')] }),
      ),
    ).toEqual([
      {
        code: 'OL_TOO_MANY_FIELDS',
        path: 'outputs[1].facets.columnLineage.fields',
        message: expect.stringContaining('output fields'),
      },
    ]);
    expect(problems(runEvent({ outputs: [output(lineage(1, maxColumnLineageInputs + 1))] }))).toEqual([
      {
        code: 'OL_TOO_MANY_FIELDS',
        path: 'outputs[0].facets.columnLineage.fields',
        message: expect.stringContaining('input fields'),
      },
    ]);
  });
});

describe('nesting limit on JSON text', () => {
  it('names the same path as the check of the parsed value, keys with escapes included', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'x' : { [`k"${levels}`]: [nest(levels - 1)] });
    const value = { a: [1, 'x,[{', { b: nest(60) }] };
    const text = JSON.stringify(value);

    expect(tooDeepTextPath(text, 50)).toBe(tooDeepPath(value, 50));
    expect(tooDeepTextPath(text, 50)).toMatch(/^a\[2\]\.b\.k"60\[0\]\.k"59\[0\]/);
    expect(tooDeepTextPath(text, 200)).toBeUndefined();
  });

  it('refuses 2.5 million levels (a 5 MiB body), naming the first value too deep', () => {
    expect(problems(deepEventText(2_500_000))).toMatchObject([
      { code: 'OL_TOO_DEEP', path: `job.facets.deep${'[0]'.repeat(maxEventNesting - 3)}` },
    ]);
  });
});
