import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import {
  CLASSIFICATIONS,
  CONNECTOR_CAPABILITIES,
  DATASET_FORMATS,
  IMAGE_RUNTIMES,
  loadManifest,
  type ManifestKind,
  manifestKindSchema,
  manifestSchema,
  TRANSFORM_MODES,
  TRANSFORM_RUNTIMES,
  TRIGGER_POLICIES,
  TRIGGER_SUB_POLICIES,
} from '../../lib/contracts/manifests/index.js';
import { specDir } from '../support/spec-dir.js';

const spec = specDir();

// ---------------------------------------------------------------------------------------------------------------
// The oracle: the seed system's JSON Schemas, evaluated by ajv exactly as published.
// ---------------------------------------------------------------------------------------------------------------

const SCHEMA_FILES: Record<ManifestKind, string> = {
  Transform: 'transform.schema.json',
  DataSet: 'dataset.schema.json',
  DataSetGroup: 'dataset-group.schema.json',
  Connector: 'connector.schema.json',
  Store: 'store.schema.json',
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
addFormats.default(ajv);
const jsonObject = z.record(z.string(), z.unknown());
const oracles = manifestKindSchema.options.map((kind) =>
  ajv.compile(
    jsonObject.parse(JSON.parse(readFileSync(join(spec, 'datakit/schemas', SCHEMA_FILES[kind]), 'utf8'))),
  ),
);

/** Valid per the JSON Schemas: each schema pins `kind` with a const, so "some schema accepts it" is the verdict. */
function ajvAccepts(document: unknown): boolean {
  return oracles.some((validate) => validate(document));
}

function zodAccepts(document: unknown): boolean {
  return manifestSchema.safeParse(document).success;
}

// ---------------------------------------------------------------------------------------------------------------
// (1) The published examples.
// ---------------------------------------------------------------------------------------------------------------

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return yamlFilesUnder(path);
    }
    return /\.ya?ml$/u.test(entry.name) ? [path] : [];
  });
}

/** DataKit manifests declare our apiVersion group; dbt's own project and model files do not. */
function isDataKitManifest(text: string): boolean {
  const apiVersion = parseDocument(text).get('apiVersion');
  return typeof apiVersion === 'string' && apiVersion.startsWith('datakit.infoblox.dev/');
}

const examplesDir = join(spec, 'datakit/examples');
const examples = yamlFilesUnder(examplesDir)
  .map((path) => ({ name: relative(examplesDir, path), text: readFileSync(path, 'utf8') }))
  .filter((example) => isDataKitManifest(example.text));

describe('the published examples', () => {
  it('include DataKit manifests to check', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples)('$name loads without throwing and the loader agrees with ajv', ({ name, text }) => {
    const result = loadManifest(text, { file: name });

    expect(result.ok).toBe(ajvAccepts(parseDocument(text).toJS()));
  });

  it.each(examples)('$name gets the same verdict from zod and ajv', ({ text }) => {
    const document: unknown = parseDocument(text).toJS();

    expect(zodAccepts(document)).toBe(ajvAccepts(document));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// (2) Generated documents: valid ones per kind, then mutated towards (and sometimes back into) validity.
// ---------------------------------------------------------------------------------------------------------------

const API_VERSION = 'datakit.infoblox.dev/v1alpha1';
const text = fc.string({ maxLength: 12 });
// Null-prototype objects are not something YAML or JSON parsing produces, so they are left out.
const stringMap = fc.dictionary(fc.string({ maxLength: 8 }), text, { maxKeys: 3, noNullPrototype: true });
const openObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
  maxKeys: 3,
  noNullPrototype: true,
});
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,62}$/);
const looseSemver = fc.stringMatching(
  /^\d{1,3}\.\d{1,3}\.\d{1,3}(-[a-zA-Z0-9.]{1,6})?(\+[a-zA-Z0-9.]{1,6})?$/,
);
const strictSemver = fc.stringMatching(
  /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(-[a-zA-Z0-9.-]{1,6})?(\+[a-zA-Z0-9.-]{1,6})?$/,
);
const variable = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);

const metadata = (fields: { namespace?: boolean; version?: fc.Arbitrary<string>; annotations?: boolean }) =>
  fc.record(
    {
      name,
      ...(fields.namespace ? { namespace: text } : {}),
      ...(fields.version === undefined ? {} : { version: fields.version }),
      labels: stringMap,
      ...(fields.annotations ? { annotations: stringMap } : {}),
    },
    { requiredKeys: ['name'] },
  );

const envelope = <K extends ManifestKind, M, S>(
  kind: K,
  meta: fc.Arbitrary<M>,
  specArbitrary: fc.Arbitrary<S>,
) =>
  fc.record({
    apiVersion: fc.constant(API_VERSION),
    kind: fc.constant(kind),
    metadata: meta,
    spec: specArbitrary,
  });

const reference = fc.oneof(
  fc.record({ dataset: text, version: text, cell: text, schema: text }, { requiredKeys: ['dataset'] }),
  fc.record({ tags: stringMap, dataset: text, version: text }, { requiredKeys: ['tags'] }),
);
const amounts = fc.record({ cpu: text, memory: text }, { requiredKeys: [] });

const transform = envelope(
  'Transform',
  metadata({ namespace: true, version: looseSemver, annotations: true }),
  fc
    .record(
      {
        runtime: fc.constantFrom(...TRANSFORM_RUNTIMES),
        mode: fc.constantFrom(...TRANSFORM_MODES),
        inputs: fc.array(reference, { minLength: 1, maxLength: 3 }),
        outputs: fc.array(reference, { minLength: 1, maxLength: 3 }),
        image: text,
        command: fc.array(text, { maxLength: 3 }),
        env: fc.array(
          fc.record({ name: text, value: text, valueFrom: openObject }, { requiredKeys: ['name'] }),
          {
            maxLength: 2,
          },
        ),
        trigger: fc.record(
          {
            policy: fc.constantFrom(...TRIGGER_POLICIES),
            schedule: fc.record({ cron: text, timezone: text }, { requiredKeys: [] }),
            policies: fc.array(fc.constantFrom(...TRIGGER_SUB_POLICIES), { maxLength: 3 }),
          },
          { requiredKeys: ['policy'] },
        ),
        timeout: fc.stringMatching(/^\d{1,4}[smh]$/),
        resources: fc.record({ requests: amounts, limits: amounts }, { requiredKeys: [] }),
        replicas: fc.integer({ min: 1, max: 64 }),
        lineage: fc.record({ enabled: fc.boolean() }, { requiredKeys: [] }),
      },
      { requiredKeys: ['runtime', 'inputs', 'outputs'] },
    )
    // The schema's if/then: container runtimes need an image.
    .map((s) => (IMAGE_RUNTIMES.has(s.runtime) && s.image === undefined ? { ...s, image: 'acme/job:1' } : s)),
);

const field = fc.record(
  { name: text, type: text, pii: fc.boolean(), from: text },
  { requiredKeys: ['name', 'type'] },
);
const dataSet = envelope(
  'DataSet',
  metadata({ namespace: true, version: looseSemver, annotations: true }),
  fc
    .record(
      {
        store: text,
        table: text,
        prefix: text,
        topic: text,
        format: fc.constantFrom(...DATASET_FORMATS),
        classification: fc.constantFrom(...CLASSIFICATIONS),
        schema: fc.array(field, { maxLength: 3 }),
        schemaRef: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}(@[\x21-\x7e]{1,8})?$/),
      },
      { requiredKeys: ['store'] },
    )
    // The schema's anyOf: a location is required.
    .map((s) => ((s.table ?? s.prefix ?? s.topic) === undefined ? { ...s, table: 'db.t' } : s)),
);

const dataSetGroup = envelope(
  'DataSetGroup',
  metadata({ namespace: true }),
  fc.record({ store: text, datasets: fc.uniqueArray(text, { minLength: 1, maxLength: 4 }) }),
);

const connector = envelope(
  'Connector',
  metadata({ annotations: true }),
  fc.record(
    {
      provider: text,
      version: strictSemver,
      type: text,
      protocol: text,
      capabilities: fc.uniqueArray(fc.constantFrom(...CONNECTOR_CAPABILITIES), { minLength: 1 }),
      plugin: fc.record({ source: text, destination: text }, { requiredKeys: [] }),
      tools: fc.array(
        fc.record(
          {
            name: text,
            description: text,
            type: fc.constantFrom('exec', 'config'),
            requires: fc.array(text, { maxLength: 2 }),
            command: text,
            format: fc.constantFrom('text', 'file', 'env'),
            path: text,
            mode: fc.constantFrom('append', 'overwrite'),
            template: text,
            postMessage: text,
            default: fc.boolean(),
          },
          { requiredKeys: ['name', 'type'] },
        ),
        { maxLength: 2 },
      ),
      connectionSchema: fc.dictionary(
        fc.string({ maxLength: 8 }),
        fc.record(
          { description: text, field: text, default: text, secret: fc.boolean(), optional: fc.boolean() },
          { requiredKeys: ['field'] },
        ),
        { maxKeys: 3, noNullPrototype: true },
      ),
    },
    { requiredKeys: ['type', 'capabilities'] },
  ),
);

const store = envelope(
  'Store',
  metadata({ namespace: true, annotations: true }),
  fc.record(
    {
      connector: text,
      connectorVersion: text,
      connection: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
        minKeys: 1,
        maxKeys: 3,
        noNullPrototype: true,
      }),
      secrets: fc.dictionary(
        fc.string({ maxLength: 8 }),
        fc.tuple(text, variable, text).map(([before, v, after]) => `${before}\${${v}}${after}`),
        { maxKeys: 3, noNullPrototype: true },
      ),
    },
    { requiredKeys: ['connector', 'connection'] },
  ),
);

type Json = unknown;
type Path = (string | number)[];

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every path to a value inside the document (the root excluded), for mutations that pick one at random. */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  const children: [string | number, Json][] = Array.isArray(value)
    ? value.map((item, index): [number, Json] => [index, item])
    : isObject(value)
      ? Object.entries(value)
      : [];
  return children.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function objectPathsOf(document: Json): Path[] {
  return [[], ...pathsOf(document)].filter((path) => isObject(valueAt(document, path)));
}

function valueAt(document: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => {
    if (Array.isArray(node) && typeof key === 'number') {
      return node[key];
    }
    return isObject(node) && typeof key === 'string' ? node[key] : undefined;
  }, document);
}

/** A copy of the document with the value at `path` replaced, or removed when `value` is undefined. */
function withValue(document: Json, path: Path, value: Json): Json {
  const [head, ...rest] = path;
  if (head === undefined) {
    return value;
  }
  if (Array.isArray(document) && typeof head === 'number') {
    const copy = [...document];
    if (rest.length === 0 && value === undefined) {
      copy.splice(head, 1);
    } else {
      copy[head] = withValue(copy[head], rest, value);
    }
    return copy;
  }
  if (isObject(document) && typeof head === 'string') {
    const copy = { ...document };
    if (rest.length === 0 && value === undefined) {
      delete copy[head];
    } else {
      copy[head] = withValue(copy[head], rest, value);
    }
    return copy;
  }
  return document;
}

/** Strings near a pattern's edge: case, separators, length, prefixes, emptiness. */
const nearMissString = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.constantFrom(
    '',
    'A',
    '1abc',
    'abc_d',
    'v1.2.3',
    '1.2',
    '1.2.3.4',
    '01.2.3',
    '1.2.3-',
    '1.2.3-a_b',
    '10x',
    '5m ',
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{60,66}$/),
  name.map((n) => `${n}@`),
  name.map((n) => n.toUpperCase()),
);

const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  nearMissString,
  fc.constantFrom(null, true, 0, -1, 1.5, [], {}, ['source', 'source']),
);

/** Deliberate, schema-aware breakages; the oracle decides whether each result is still valid. */
const TARGETED: Record<ManifestKind, readonly [Path, fc.Arbitrary<Json>][]> = {
  Transform: [
    [['metadata', 'name'], nearMissString],
    [['metadata', 'version'], nearMissString],
    [['spec', 'timeout'], nearMissString],
    [
      ['spec', 'runtime'],
      fc.constantFrom('generic-go', 'generic-python', 'dbt', 'cloudquery', 'Dbt', 'spark'),
    ],
    [['spec', 'image'], fc.constant(undefined)],
    [['spec', 'mode'], fc.constantFrom('batch', 'Batch', 'stream')],
    [['spec', 'inputs'], fc.constantFrom([], [{}], [{ version: '1' }], [{ dataset: 'a', tags: {} }])],
    [['spec', 'outputs'], fc.constantFrom([], [{ cell: 'x' }], 'a')],
    // 1e21 is an integer to JSON Schema though beyond 2^53: zod's .int() would refuse it, so the contract does not use it.
    [
      ['spec', 'replicas'],
      fc.oneof(fc.constantFrom(0, 1, 1.5, -1, 1e21), fc.double({ min: 0, max: 4, noNaN: true })),
    ],
    [
      ['spec', 'trigger'],
      fc.constantFrom({}, { policy: 'cron' }, { policy: 'composite', policies: ['composite'] }),
    ],
  ],
  DataSet: [
    [['metadata', 'name'], nearMissString],
    [['metadata', 'version'], nearMissString],
    [['spec', 'schemaRef'], nearMissString],
    [['spec', 'schema'], fc.constantFrom([], [{ name: 'a' }], [{ name: 'a', type: 'string', pii: 'yes' }])],
    [['spec', 'classification'], fc.constantFrom('secret', 'Internal', 'restricted')],
    [['spec', 'format'], fc.constantFrom('xml', 'parquet')],
    [['spec', 'table'], fc.constant(undefined)],
  ],
  DataSetGroup: [
    [['metadata', 'name'], nearMissString],
    [['spec', 'datasets'], fc.constantFrom([], ['a', 'a'], ['a', 'b', 'a'], [1], 'a')],
  ],
  Connector: [
    [['metadata', 'name'], nearMissString],
    [['spec', 'version'], nearMissString],
    [
      ['spec', 'capabilities'],
      fc.constantFrom([], ['source', 'source'], ['sink'], ['destination'], 'source'),
    ],
    [['spec', 'connectionSchema'], fc.constantFrom({ host: {} }, { host: { field: 'h', type: 'string' } })],
  ],
  Store: [
    [['metadata', 'name'], nearMissString],
    [['spec', 'connection'], fc.constantFrom({}, [], 'dsn', { host: null })],
    [['spec', 'secrets'], fc.dictionary(text, nearMissString, { maxKeys: 2, noNullPrototype: true })],
  ],
};

/** A valid document, then one mutation: replace, delete or add at a random place, or a targeted breakage. */
function mutated(kind: ManifestKind, valid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  const targeted = TARGETED[kind];
  return valid.chain((document) => {
    const paths = pathsOf(document);
    return fc.oneof(
      fc.constantFrom(...paths).chain((path) => junk.map((value) => withValue(document, path, value))),
      fc.constantFrom(...paths).map((path) => withValue(document, path, undefined)),
      fc
        .tuple(fc.constantFrom(...objectPathsOf(document)), fc.string({ minLength: 1, maxLength: 8 }), junk)
        .map(([path, key, value]) => withValue(document, [...path, key], value)),
      fc.constantFrom(...targeted).chain(([path, value]) => value.map((v) => withValue(document, path, v))),
      // Two independent breakages, so multi-problem documents are compared too.
      fc
        .tuple(fc.constantFrom(...targeted), fc.constantFrom(...targeted))
        .chain(([[p1, v1], [p2, v2]]) =>
          fc.tuple(v1, v2).map(([a, b]) => withValue(withValue(document, p1, a), p2, b)),
        ),
    );
  });
}

const GENERATORS: Record<ManifestKind, fc.Arbitrary<Json>> = {
  Transform: transform,
  DataSet: dataSet,
  DataSetGroup: dataSetGroup,
  Connector: connector,
  Store: store,
};

const RUNS_PER_KIND = 300;

describe.each(manifestKindSchema.options)('zod and ajv on generated %s documents', (kind) => {
  it('accept every unmutated document (the generators produce valid manifests)', () => {
    fc.assert(
      fc.property(GENERATORS[kind], (document) => {
        expect(ajvAccepts(document)).toBe(true);
        expect(zodAccepts(document)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('agree on valid/invalid for every mutated document, and the loader agrees on its YAML', () => {
    const verdicts = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(mutated(kind, GENERATORS[kind]), (document) => {
        const expected = ajvAccepts(document);
        verdicts[expected ? 'valid' : 'invalid'] += 1;

        expect(zodAccepts(document)).toBe(expected);
        expect(loadManifest(stringify(document)).ok).toBe(expected);
      }),
      { numRuns: RUNS_PER_KIND },
    );
    // Both verdicts must occur, or the agreement above would be vacuous.
    expect(verdicts.valid).toBeGreaterThan(0);
    expect(verdicts.invalid).toBeGreaterThan(RUNS_PER_KIND / 2);
  });
});

describe('zod and ajv on the schema/schemaRef combination', () => {
  it('both accept a DataSet holding an inline schema and a schemaRef (exclusivity is only prose in the schema)', () => {
    fc.assert(
      fc.property(dataSet, fc.array(field, { minLength: 1, maxLength: 2 }), (document, schema) => {
        const both = withValue(
          withValue(document, ['spec', 'schema'], schema),
          ['spec', 'schemaRef'],
          'users@^1.0.0',
        );

        expect([zodAccepts(both), ajvAccepts(both)]).toEqual([true, true]);
      }),
      { numRuns: 50 },
    );
  });
});
