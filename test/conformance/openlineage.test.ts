import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  datasetEventSchema,
  jobEventSchema,
  runEventSchema,
} from '../../lib/contracts/openlineage/events.js';
import { parseLineageEvent } from '../../lib/contracts/openlineage/parse.js';
import { specDir } from '../support/spec-dir.js';

// The oracle: the OpenLineage 2-0-2 JSON Schemas as published, evaluated by ajv (draft 2020-12).
const openLineageDir = join(specDir(), 'openlineage');
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const readJson = (path: string): object => JSON.parse(readFileSync(path, 'utf8'));
ajv.addSchema(readJson(join(openLineageDir, 'OpenLineage.json')), 'OpenLineage');
const facetFiles = readdirSync(join(openLineageDir, 'facets')).filter((file) => file.endsWith('.json'));
for (const file of facetFiles) ajv.addSchema(readJson(join(openLineageDir, 'facets', file)), file);

const validEvent = (event: unknown): boolean => ajv.validate('OpenLineage', event) === true;
/** A facet file's top-level schema is `{ properties: { <facetKey>: ... } }`; validate the facet under its key. */
const validFacet = (file: string, key: string, facet: unknown): boolean =>
  ajv.validate(file, { [key]: facet }) === true;

// ---------------------------------------------------------------------------------------------------------------
// Generators of spec-valid events, well-known facets included.
// ---------------------------------------------------------------------------------------------------------------

const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const producerArb = fc.constantFrom(
  'https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/airflow',
  'https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark',
  'https://datakit.example.com/control-plane',
);
const base = (facet: string) => ({
  _producer: 'https://datakit.example.com',
  _schemaURL: `https://openlineage.io/spec/facets/${facet}.json#/$defs/${facet}`,
});
const textArb = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');
const nameArb = fc.oneof(textArb, fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,2}$/));
const namespaceArb = fc.oneof(
  textArb,
  fc.constantFrom('postgres://db.example.com:5432', 's3://lake', 'kafka://broker:9092', 'airflow'),
);
const instantArb = fc.date({
  min: new Date('1990-01-01T00:00:00Z'),
  max: new Date('2090-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const eventTimeArb = fc.oneof(
  instantArb.map((d) => d.toISOString()),
  fc
    .tuple(instantArb, fc.constantFrom('+02:00', '-05:30', '+00:00'))
    .map(([d, zone]) => d.toISOString().replace('Z', zone)),
  instantArb.map((d) => d.toISOString().replace(/\.\d{3}Z$/, '.123456Z')),
);

interface SchemaFieldValue {
  name: string;
  type?: string;
  fields?: SchemaFieldValue[];
}
const schemaFieldArb: fc.Arbitrary<SchemaFieldValue> = fc.letrec<{ field: SchemaFieldValue }>((tie) => ({
  field: fc.record(
    {
      name: nameArb,
      type: fc.constantFrom('INTEGER', 'VARCHAR', 'STRUCT', 'TIMESTAMP'),
      fields: fc.array(tie('field'), { maxLength: 2, depthIdentifier: 'schema' }),
    },
    { requiredKeys: ['name'] },
  ),
})).field;

const inputFieldArb = fc.record(
  {
    namespace: namespaceArb,
    name: nameArb,
    field: nameArb,
    transformations: fc.array(
      fc.record({
        type: fc.constantFrom('DIRECT', 'INDIRECT'),
        subtype: fc.constantFrom('IDENTITY', 'AGGREGATION'),
      }),
      {
        maxLength: 2,
      },
    ),
  },
  { requiredKeys: ['namespace', 'name', 'field'] },
);

/** Well-known dataset facets: [facet file, facet key, facet]. */
const datasetFacetArbs = {
  schema: fc
    .array(schemaFieldArb, { maxLength: 3 })
    .map((fields) => ({ ...base('SchemaDatasetFacet'), fields })),
  columnLineage: fc
    .record({
      fields: fc.dictionary(nameArb, fc.record({ inputFields: fc.array(inputFieldArb, { maxLength: 2 }) }), {
        maxKeys: 2,
      }),
      dataset: fc.array(inputFieldArb, { maxLength: 2 }),
    })
    .map((facet) => ({ ...base('ColumnLineageDatasetFacet'), ...facet })),
  documentation: textArb.map((description) => ({ ...base('DocumentationDatasetFacet'), description })),
  dataSource: fc
    .constantFrom('postgres://db:5432/crm', 's3://lake')
    .map((uri) => ({ ...base('DatasourceDatasetFacet'), name: uri, uri })),
  lifecycleStateChange: fc
    .constantFrom('CREATE', 'DROP', 'OVERWRITE')
    .map((lifecycleStateChange) => ({ ...base('LifecycleStateChangeDatasetFacet'), lifecycleStateChange })),
  symlinks: fc
    .array(fc.record({ namespace: namespaceArb, name: nameArb, type: fc.constant('TABLE') }), {
      maxLength: 2,
    })
    .map((identifiers) => ({ ...base('SymlinksDatasetFacet'), identifiers })),
};
const datasetFacetFiles: Record<string, string> = {
  schema: 'SchemaDatasetFacet.json',
  columnLineage: 'ColumnLineageDatasetFacet.json',
  documentation: 'DocumentationDatasetFacet.json',
  dataSource: 'DatasourceDatasetFacet.json',
  lifecycleStateChange: 'LifecycleStateChangeDatasetFacet.json',
  symlinks: 'SymlinksDatasetFacet.json',
};

const runFacetArbs = {
  parent: fc
    .record({ runId: fc.uuid(), namespace: namespaceArb, name: nameArb })
    .map(({ runId, namespace, name }) => ({
      ...base('ParentRunFacet'),
      run: { runId },
      job: { namespace, name },
    })),
  errorMessage: textArb.map((message) => ({
    ...base('ErrorMessageRunFacet'),
    message,
    programmingLanguage: 'PYTHON',
  })),
  nominalTime: instantArb.map((d) => ({ ...base('NominalTimeRunFacet'), nominalStartTime: d.toISOString() })),
};
const runFacetFiles: Record<string, string> = {
  parent: 'ParentRunFacet.json',
  errorMessage: 'ErrorMessageRunFacet.json',
  nominalTime: 'NominalTimeRunFacet.json',
};

const jobFacetArbs = {
  jobType: fc.constantFrom('BATCH', 'STREAMING').map((processingType) => ({
    ...base('JobTypeJobFacet'),
    processingType,
    integration: 'SPARK',
    jobType: 'JOB',
  })),
  sql: textArb.map((query) => ({ ...base('SQLJobFacet'), query })),
  documentation: textArb.map((description) => ({ ...base('DocumentationJobFacet'), description })),
};
const jobFacetFiles: Record<string, string> = {
  jobType: 'JobTypeJobFacet.json',
  sql: 'SQLJobFacet.json',
  documentation: 'DocumentationJobFacet.json',
};

const customFacetArb = fc.jsonValue().map((anything) => ({ ...base('CustomFacet'), anything }));

const datasetArb = fc.record(
  {
    namespace: namespaceArb,
    name: nameArb,
    facets: fc.record({ ...datasetFacetArbs, my_custom: customFacetArb }, { requiredKeys: [] }),
  },
  { requiredKeys: ['namespace', 'name'] },
);
const jobArb = fc.record(
  { namespace: namespaceArb, name: nameArb, facets: fc.record(jobFacetArbs, { requiredKeys: [] }) },
  { requiredKeys: ['namespace', 'name'] },
);

const runEventArb = fc.record(
  {
    eventType: fc.constantFrom('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'),
    eventTime: eventTimeArb,
    producer: producerArb,
    schemaURL: fc.constant(`${SPEC}#/$defs/RunEvent`),
    run: fc.record(
      {
        runId: fc.uuid(),
        facets: fc.record({ ...runFacetArbs, my_custom: customFacetArb }, { requiredKeys: [] }),
      },
      { requiredKeys: ['runId'] },
    ),
    job: jobArb,
    inputs: fc.array(datasetArb, { maxLength: 3 }),
    outputs: fc.array(datasetArb, { maxLength: 3 }),
  },
  { requiredKeys: ['eventTime', 'producer', 'schemaURL', 'run', 'job'] },
);

const datasetEventArb = fc.record({
  eventTime: eventTimeArb,
  producer: producerArb,
  schemaURL: fc.constant(`${SPEC}#/$defs/DatasetEvent`),
  dataset: datasetArb,
});

const jobEventArb = fc.record(
  {
    eventTime: eventTimeArb,
    producer: producerArb,
    schemaURL: fc.constant(`${SPEC}#/$defs/JobEvent`),
    job: jobArb,
    inputs: fc.array(datasetArb, { maxLength: 3 }),
    outputs: fc.array(datasetArb, { maxLength: 3 }),
  },
  { requiredKeys: ['eventTime', 'producer', 'schemaURL', 'job'] },
);

type Json = Record<string, unknown>;
const record = (value: unknown): Json =>
  typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {};
const facetsOf = (entity: unknown): Json => record(record(entity).facets);
const identity = (entity: unknown) => ({ namespace: record(entity).namespace, name: record(entity).name });
const identities = (list: unknown) => (Array.isArray(list) ? list.map(identity) : []);

function expectKnownFacetsValidAndTyped(
  sent: Json,
  files: Record<string, string>,
  known: Record<string, unknown> | undefined,
): void {
  for (const [key, facet] of Object.entries(sent)) {
    const file = files[key];
    if (file === undefined) continue;
    expect(validFacet(file, key, facet), `${key} is spec-valid`).toBe(true);
    expect(known?.[key], `${key} is typed`).toBeDefined();
  }
}

const RUNS = { numRuns: 250 };

describe('OpenLineage 2-0-2 conformance: spec-valid events', () => {
  it('accepts every spec-valid RunEvent with the same run, job and IO, and types its well-known facets', () => {
    fc.assert(
      fc.property(runEventArb, (event) => {
        expect(validEvent(event), JSON.stringify(ajv.errors)).toBe(true);
        expect(runEventSchema.safeParse(event).success).toBe(true);

        const result = parseLineageEvent(event);

        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.event.kind).toBe('run');
        expect(result.event.run?.runId).toBe(event.run.runId.toLowerCase());
        expect(result.event.job).toMatchObject(identity(event.job));
        expect(result.event.inputs.map(identity)).toEqual(identities(event.inputs));
        expect(result.event.outputs.map(identity)).toEqual(identities(event.outputs));
        expect(result.event.eventTime).toBe(new Date(event.eventTime).toISOString());
        expectKnownFacetsValidAndTyped(facetsOf(event.run), runFacetFiles, result.event.run?.known);
        expectKnownFacetsValidAndTyped(facetsOf(event.job), jobFacetFiles, result.event.job?.known);
        (event.outputs ?? []).forEach((output, i) => {
          expectKnownFacetsValidAndTyped(facetsOf(output), datasetFacetFiles, result.event.outputs[i]?.known);
        });
      }),
      RUNS,
    );
  });

  it('accepts every spec-valid DatasetEvent with the same dataset', () => {
    fc.assert(
      fc.property(datasetEventArb, (event) => {
        expect(validEvent(event), JSON.stringify(ajv.errors)).toBe(true);
        expect(datasetEventSchema.safeParse(event).success).toBe(true);

        const result = parseLineageEvent(event);

        expect(result.ok && result.event.kind).toBe('dataset');
        if (!result.ok) return;
        expect(result.event.dataset).toMatchObject(identity(event.dataset));
        expectKnownFacetsValidAndTyped(
          facetsOf(event.dataset),
          datasetFacetFiles,
          result.event.dataset?.known,
        );
      }),
      RUNS,
    );
  });

  it('accepts every spec-valid JobEvent with the same job and IO', () => {
    fc.assert(
      fc.property(jobEventArb, (event) => {
        expect(validEvent(event), JSON.stringify(ajv.errors)).toBe(true);
        expect(jobEventSchema.safeParse(event).success).toBe(true);

        const result = parseLineageEvent(event);

        expect(result.ok && result.event.kind).toBe('job');
        if (!result.ok) return;
        expect(result.event.job).toMatchObject(identity(event.job));
        expect(result.event.inputs.map(identity)).toEqual(identities(event.inputs));
        expect(result.event.outputs.map(identity)).toEqual(identities(event.outputs));
      }),
      RUNS,
    );
  });
});

/** Breaks a valid RunEvent in one way the spec forbids; the name says how, the code what we answer. */
const breakages: [string, string, (event: Json) => Json][] = [
  ['run.runId removed', 'OL_MISSING_RUN_ID', (e) => ({ ...e, run: { ...record(e.run), runId: undefined } })],
  ['run.runId a number', 'OL_INVALID_RUN_ID', (e) => ({ ...e, run: { ...record(e.run), runId: 42 } })],
  ['job.name removed', 'OL_MISSING_FIELD', (e) => ({ ...e, job: { ...record(e.job), name: undefined } })],
  ['job.namespace a number', 'OL_INVALID_FIELD', (e) => ({ ...e, job: { ...record(e.job), namespace: 7 } })],
  ['job removed', 'OL_MISSING_JOB', (e) => ({ ...e, job: undefined })],
  ['eventTime not a date', 'OL_INVALID_EVENT_TIME', (e) => ({ ...e, eventTime: 'last tuesday' })],
  ['eventType a number', 'OL_INVALID_EVENT_TYPE', (e) => ({ ...e, eventType: 3 })],
  ['inputs not an array', 'OL_INVALID_FIELD', (e) => ({ ...e, inputs: 'raw.orders' })],
  ['an input without namespace', 'OL_MISSING_FIELD', (e) => ({ ...e, inputs: [{ name: 'orders' }] })],
];

const strip = (event: Json): Json => JSON.parse(JSON.stringify(event));

describe('OpenLineage 2-0-2 conformance: strictly invalid events', () => {
  it.each(breakages)('refuses a RunEvent with %s, as the spec does', (_how, code, breakIt) => {
    fc.assert(
      fc.property(runEventArb, (valid) => {
        const broken = strip(breakIt(valid));

        expect(validEvent(broken)).toBe(false);
        const result = parseLineageEvent(broken);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems.map((p) => p.code)).toContain(code);
      }),
      { numRuns: 200 },
    );
  });
});

// Where we deliberately differ from the schema, and why.
describe('OpenLineage 2-0-2 conformance: deliberate differences', () => {
  it.each<[string, (event: Json) => Json]>([
    // Marquez defaults a missing schemaURL to RunEvent, and older clients omit it.
    ['no schemaURL', (e) => ({ ...e, schemaURL: undefined })],
    // Marquez tolerates an unidentified producer; we record ''.
    ['no producer', (e) => ({ ...e, producer: undefined })],
    // Naive timestamps (Python isoformat) are common; Marquez reads them as UTC.
    [
      'an eventTime without zone',
      (e) => ({ ...e, eventTime: String(e.eventTime).replace(/(Z|[+-]\d{2}:\d{2})$/, '') }),
    ],
    // Facets are opaque to ingestion: a facet breaking the base facet rules must not lose the event's lineage.
    [
      'a facet without _producer/_schemaURL',
      (e) => ({ ...e, run: { ...record(e.run), facets: { custom: { x: 1 } } } }),
    ],
    // Marquez maps a run id that is not a UUID to its name-based UUID (runToUuid).
    ['a run id that is not a UUID', (e) => ({ ...e, run: { ...record(e.run), runId: 'run-42' } })],
    // Marquez reads eventType in any case, and an unknown one as a transition that is not terminal.
    ['an eventType in lower case', (e) => ({ ...e, eventType: 'complete' })],
    ['an unknown eventType', (e) => ({ ...e, eventType: 'SUCCEEDED' })],
  ])('accepts a RunEvent with %s, which the schema refuses', (_how, loosen) => {
    fc.assert(
      fc.property(runEventArb, (valid) => {
        const loosened = strip(loosen(valid));

        expect(validEvent(loosened)).toBe(false);
        expect(parseLineageEvent(loosened).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a RunEvent whose well-known facet breaks its facet schema, keeping it opaque and untyped', () => {
    fc.assert(
      fc.property(runEventArb, (valid) => {
        const sql = { ...base('SQLJobFacet'), query: 42 };
        const event = strip({ ...valid, job: { ...valid.job, facets: { sql } } });

        expect(validFacet('SQLJobFacet.json', 'sql', sql)).toBe(false);
        const result = parseLineageEvent(event);
        expect(result.ok && result.event.job?.facets.sql).toEqual(sql);
        expect(result.ok && result.event.job?.known.sql).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it.each<[string, (event: Json) => Json]>([
    // Marquez cannot key a job or dataset by a blank name; the schema allows "".
    ['a blank job name', (e) => ({ ...e, job: { ...record(e.job), name: ' ' } })],
    // The schema lets a RunEvent that lost its run pass as a JobEvent; its schemaURL says RunEvent, so we refuse.
    ['no run although its schemaURL names RunEvent', (e) => ({ ...e, run: undefined })],
  ])('refuses a RunEvent with %s, which the schema accepts', (_how, tighten) => {
    fc.assert(
      fc.property(runEventArb, (valid) => {
        const tightened = strip(tighten(valid));

        expect(validEvent(tightened)).toBe(true);
        expect(parseLineageEvent(tightened).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
