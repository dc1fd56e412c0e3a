import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadManifest, type Manifest } from '../../../lib/contracts/manifests/index.js';
import { type Problem, problemSchema } from '../../../lib/contracts/problem.js';

const TRANSFORM = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: orders-rollup
  namespace: sales
  version: 2.3.1
spec:
  runtime: generic-python
  image: registry.example.com/sales/orders-rollup:2.3.1
  inputs:
    - dataset: orders
  outputs:
    - dataset: orders-daily
  trigger:
    policy: on-change
  timeout: 45m
`;

const DATASET = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata:
  name: orders-daily
  version: 1.4.0
spec:
  store: lakehouse
  prefix: sales/orders-daily/
  format: parquet
  classification: confidential
  schema:
    - name: order_id
      type: string
    - name: buyer_email
      type: string
      pii: true
`;

const DATASET_GROUP = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSetGroup
metadata:
  name: sales-marts
spec:
  store: lakehouse
  datasets: [orders-daily, orders-monthly]
`;

const CONNECTOR = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Connector
metadata:
  name: mysql-8-0-1
spec:
  provider: mysql
  version: 8.0.1
  type: mysql
  capabilities: [source, destination]
  connectionSchema:
    host:
      field: hostname
    password:
      field: password
      secret: true
`;

const STORE = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Store
metadata:
  name: lakehouse
spec:
  connector: s3
  connection:
    bucket: acme-lakehouse
    region: eu-west-1
  secrets:
    accessKey: \${LAKEHOUSE_ACCESS_KEY}
`;

type Path = (string | number)[];

/** The base manifest with one field set (or, with `undefined`, removed), re-serialised as YAML. */
function edit(base: string, path: Path, value: unknown): string {
  const document = parseDocument(base);
  if (value === undefined) {
    document.deleteIn(path);
  } else {
    document.setIn(path, value);
  }
  return document.toString();
}

function loaded(text: string): Manifest {
  const result = loadManifest(text);
  if (!result.ok) {
    throw new Error(`expected the manifest to load, got ${JSON.stringify(result.problems)}`);
  }
  return result.manifest;
}

function problemsOf(text: string, file?: string): Problem[] {
  const result = loadManifest(text, file === undefined ? {} : { file });
  if (result.ok) {
    throw new Error('expected the manifest to be rejected');
  }
  return result.problems;
}

/** `CODE path` per problem: compact, and exact, so an extra or a missing problem fails the test. */
function codesOf(text: string): string[] {
  return problemsOf(text).map((problem) => `${problem.code} ${problem.path ?? ''}`.trim());
}

describe('loadManifest with valid manifests', () => {
  it.each([
    ['Transform', TRANSFORM],
    ['DataSet', DATASET],
    ['DataSetGroup', DATASET_GROUP],
    ['Connector', CONNECTOR],
    ['Store', STORE],
  ])('loads a valid %s with its kind and no warnings', (kind, text) => {
    const result = loadManifest(text);

    expect(result).toMatchObject({ ok: true, manifest: { kind }, warnings: [] });
  });

  it('returns the fields as written, without applying schema defaults', () => {
    const manifest = loaded(TRANSFORM);

    expect(manifest).toMatchObject({ metadata: { name: 'orders-rollup', version: '2.3.1' } });
    expect(manifest.kind === 'Transform' && manifest.spec.mode).toBeUndefined();
  });

  it('loads a cloudquery Transform without an image, since only container runtimes need one', () => {
    const text = edit(edit(TRANSFORM, ['spec', 'runtime'], 'cloudquery'), ['spec', 'image'], undefined);

    expect(loaded(text).kind).toBe('Transform');
  });

  it('selects inputs by tags instead of a dataset name', () => {
    const text = edit(TRANSFORM, ['spec', 'inputs'], [{ tags: { domain: 'sales' }, version: '^1.0.0' }]);

    expect(loaded(text).kind).toBe('Transform');
  });

  it.each<[string, Path, string]>([
    ['Transform spec.resources', ['spec', 'resources', 'gpu'], TRANSFORM],
    ['Transform spec.lineage', ['spec', 'lineage', 'emitter'], TRANSFORM],
    ['Transform spec.trigger.schedule', ['spec', 'trigger', 'schedule', 'jitter'], TRANSFORM],
    ['Store spec.connection', ['spec', 'connection', 'endpoint'], STORE],
  ])('accepts extra keys in the open object %s', (_where, path, base) => {
    expect(loadManifest(edit(base, path, 'anything')).ok).toBe(true);
  });

  it('accepts extra keys in env entries and their valueFrom', () => {
    const text = edit(
      TRANSFORM,
      ['spec', 'env'],
      [{ name: 'TOKEN', valueFrom: { secretRef: 'orders' }, note: 'x' }],
    );

    expect(loadManifest(text).ok).toBe(true);
  });

  it('reads semver leniently for Transforms (leading zeros) as the Transform schema does', () => {
    expect(loadManifest(edit(TRANSFORM, ['metadata', 'version'], '01.2.3')).ok).toBe(true);
  });

  it('reports a YAML warning, such as an unknown tag, without refusing the manifest', () => {
    const result = loadManifest(TRANSFORM.replace('namespace: sales', 'namespace: !team sales'));

    expect(result).toMatchObject({ ok: true, warnings: [{ code: 'DK_YAML_WARNING' }] });
  });
});

describe('loadManifest with malformed YAML', () => {
  it('reports invalid YAML with its line and column', () => {
    const problems = problemsOf('apiVersion: datakit.infoblox.dev/v1alpha1\nkind: [Transform\n');

    expect(problems).toEqual([
      { code: 'DK_YAML_INVALID', message: expect.stringMatching(/line \d+, column \d+/) },
    ]);
  });

  it('names the file in YAML positions when one is given', () => {
    const [problem] = problemsOf('kind: "Transform\n', 'dk.yaml');

    expect(problem?.message).toMatch(/dk\.yaml:\d+:\d+/);
  });

  it('refuses duplicate keys instead of keeping the last one', () => {
    expect(codesOf(`${TRANSFORM}kind: DataSet\n`)).toEqual(['DK_YAML_INVALID']);
  });

  it('refuses a file holding two documents', () => {
    expect(codesOf(`${DATASET}---\n${STORE}`)).toEqual(['DK_YAML_MULTIPLE_DOCUMENTS']);
  });

  it('ignores an empty trailing document after ---', () => {
    expect(loadManifest(`${STORE}---\n# nothing here\n`).ok).toBe(true);
  });

  it.each([
    ['a list', '- apiVersion: datakit.infoblox.dev/v1alpha1\n'],
    ['a scalar', 'just text\n'],
    ['empty', ''],
    ['only comments', '# a manifest will go here\n'],
  ])('refuses a document that is %s', (_what, text) => {
    expect(codesOf(text)).toEqual(['DK_YAML_NOT_MAPPING']);
  });

  it('reports an alias bomb as invalid YAML rather than expanding or throwing', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');

    expect(codesOf(bomb)).toEqual(['DK_YAML_INVALID']);
  });
});

describe('loadManifest with an invalid envelope', () => {
  it('reports E002 when kind is missing', () => {
    expect(codesOf(edit(TRANSFORM, ['kind'], undefined))).toEqual(['E002 kind']);
  });

  it('reports E002 naming the unknown kind', () => {
    const [problem] = problemsOf(edit(TRANSFORM, ['kind'], 'Pipeline'));

    expect(problem).toMatchObject({
      code: 'E002',
      path: 'kind',
      message: expect.stringContaining('"Pipeline"'),
    });
  });

  it('reports a wrong apiVersion alongside an unknown kind', () => {
    const text = edit(edit(TRANSFORM, ['kind'], 'Pipeline'), ['apiVersion'], 'datakit.infoblox.dev/v2');

    expect(codesOf(text)).toEqual(['DK_API_VERSION apiVersion', 'E002 kind']);
  });

  it('reports DK_API_VERSION for another apiVersion on a known kind', () => {
    expect(codesOf(edit(STORE, ['apiVersion'], 'datakit.infoblox.dev/v1beta1'))).toEqual([
      'DK_API_VERSION apiVersion',
    ]);
  });

  it('reports an unknown top-level field by name', () => {
    const [problem] = problemsOf(edit(STORE, ['status'], { phase: 'Ready' }));

    expect(problem).toMatchObject({
      code: 'DK_UNKNOWN_FIELD',
      path: 'status',
      message: expect.stringContaining('"status"'),
    });
  });

  it('reports a missing spec as a schema problem', () => {
    expect(codesOf(edit(STORE, ['spec'], undefined))).toEqual(['DK_SCHEMA spec']);
  });
});

describe('loadManifest maps schema violations to dk lint codes', () => {
  it.each<[string, string, string, Path, unknown, string]>([
    ['E001', 'metadata.name has upper case', TRANSFORM, ['metadata', 'name'], 'Orders', 'metadata.name'],
    [
      'E001',
      'metadata.name is 64 characters',
      DATASET,
      ['metadata', 'name'],
      `a${'b'.repeat(63)}`,
      'metadata.name',
    ],
    ['E001', 'metadata.name is missing', STORE, ['metadata', 'name'], undefined, 'metadata.name'],
    ['E020', 'metadata.version is not semver', DATASET, ['metadata', 'version'], 'v1.4', 'metadata.version'],
    [
      'E020',
      'a Connector version has a leading zero',
      CONNECTOR,
      ['spec', 'version'],
      '08.0.1',
      'spec.version',
    ],
    ['E030', 'spec.image is not a string', TRANSFORM, ['spec', 'image'], 42, 'spec.image'],
    ['E031', 'spec.timeout has no unit', TRANSFORM, ['spec', 'timeout'], '90', 'spec.timeout'],
    ['E031', 'spec.timeout uses days', TRANSFORM, ['spec', 'timeout'], '2d', 'spec.timeout'],
    ['E040', 'spec.runtime is missing', TRANSFORM, ['spec', 'runtime'], undefined, 'spec.runtime'],
    ['E040', 'spec.runtime is unknown', TRANSFORM, ['spec', 'runtime'], 'spark', 'spec.runtime'],
    ['E230', 'spec.inputs is empty', TRANSFORM, ['spec', 'inputs'], [], 'spec.inputs'],
    ['E230', 'spec.inputs is missing', TRANSFORM, ['spec', 'inputs'], undefined, 'spec.inputs'],
    [
      'E230',
      'an input has neither dataset nor tags',
      TRANSFORM,
      ['spec', 'inputs', 0],
      { cell: 'eu' },
      'spec.inputs[0]',
    ],
    ['E231', 'spec.outputs is empty', TRANSFORM, ['spec', 'outputs'], [], 'spec.outputs'],
    ['E231', 'spec.outputs is not a list', TRANSFORM, ['spec', 'outputs'], 'orders-daily', 'spec.outputs'],
    [
      'E232',
      'a generic-python Transform has no image',
      TRANSFORM,
      ['spec', 'image'],
      undefined,
      'spec.image',
    ],
    ['E200', 'a Connector has no type', CONNECTOR, ['spec', 'type'], undefined, 'spec.type'],
    ['E201', 'capabilities is empty', CONNECTOR, ['spec', 'capabilities'], [], 'spec.capabilities'],
    [
      'E201',
      'a capability is repeated',
      CONNECTOR,
      ['spec', 'capabilities'],
      ['source', 'source'],
      'spec.capabilities[1]',
    ],
    [
      'E201',
      'a capability is unknown',
      CONNECTOR,
      ['spec', 'capabilities'],
      ['sink'],
      'spec.capabilities[0]',
    ],
    ['E210', 'a Store has no connector', STORE, ['spec', 'connector'], undefined, 'spec.connector'],
    ['E211', 'spec.connection is empty', STORE, ['spec', 'connection'], {}, 'spec.connection'],
    ['E211', 'spec.connection is a string', STORE, ['spec', 'connection'], 'host=db', 'spec.connection'],
    [
      'E212',
      'a secret is a plain value',
      STORE,
      ['spec', 'secrets', 'accessKey'],
      'AKIA123',
      'spec.secrets.accessKey',
    ],
    ['E220', 'a DataSet has no store', DATASET, ['spec', 'store'], undefined, 'spec.store'],
    [
      'E222',
      'a schema field has no type',
      DATASET,
      ['spec', 'schema', 1, 'type'],
      undefined,
      'spec.schema[1].type',
    ],
    ['E222', 'pii is not a boolean', DATASET, ['spec', 'schema', 1, 'pii'], 'yes', 'spec.schema[1].pii'],
    [
      'E311',
      'schemaRef is not a module reference',
      DATASET,
      ['spec', 'schemaRef'],
      'Orders@1',
      'spec.schemaRef',
    ],
    ['E240', 'a DataSetGroup has no store', DATASET_GROUP, ['spec', 'store'], undefined, 'spec.store'],
    ['E241', 'datasets is empty', DATASET_GROUP, ['spec', 'datasets'], [], 'spec.datasets'],
    [
      'E241',
      'a dataset is listed twice',
      DATASET_GROUP,
      ['spec', 'datasets'],
      ['a', 'b', 'a'],
      'spec.datasets[2]',
    ],
  ])('reports %s when %s', (code, _when, base, path, value, expectedPath) => {
    expect(codesOf(edit(base, path, value))).toEqual([`${code} ${expectedPath}`]);
  });

  it('reports E232 for a dbt Transform without an image', () => {
    const text = edit(edit(TRANSFORM, ['spec', 'runtime'], 'dbt'), ['spec', 'image'], undefined);

    expect(codesOf(text)).toEqual(['E232 spec.image']);
  });

  it('reports E221 on spec when a DataSet has no table, prefix or topic', () => {
    expect(codesOf(edit(DATASET, ['spec', 'prefix'], undefined))).toEqual(['E221 spec']);
  });

  it('accepts schema and schemaRef together, leaving their exclusivity (E310) to lintManifest', () => {
    expect(loadManifest(edit(DATASET, ['spec', 'schemaRef'], 'orders@^1.0.0')).ok).toBe(true);
  });
});

describe('loadManifest reports other violations with generic codes', () => {
  it.each<[string, string, Path, unknown, string]>([
    ['an unknown mode', TRANSFORM, ['spec', 'mode'], 'hourly', 'DK_SCHEMA spec.mode'],
    ['an unknown format', DATASET, ['spec', 'format'], 'xml', 'DK_SCHEMA spec.format'],
    [
      'an unknown classification',
      DATASET,
      ['spec', 'classification'],
      'secret',
      'DK_SCHEMA spec.classification',
    ],
    [
      'a trigger without policy',
      TRANSFORM,
      ['spec', 'trigger', 'policy'],
      undefined,
      'DK_SCHEMA spec.trigger.policy',
    ],
    ['zero replicas', TRANSFORM, ['spec', 'replicas'], 0, 'DK_SCHEMA spec.replicas'],
    ['fractional replicas', TRANSFORM, ['spec', 'replicas'], 1.5, 'DK_SCHEMA spec.replicas'],
    [
      'a wrongly typed input field',
      TRANSFORM,
      ['spec', 'inputs', 0, 'cell'],
      3,
      'DK_SCHEMA spec.inputs[0].cell',
    ],
    [
      'a connection field without its key',
      CONNECTOR,
      ['spec', 'connectionSchema', 'host', 'field'],
      undefined,
      'DK_SCHEMA spec.connectionSchema.host.field',
    ],
    [
      'a tool of unknown type',
      CONNECTOR,
      ['spec', 'tools'],
      [{ name: 'psql', type: 'shell' }],
      'DK_SCHEMA spec.tools[0].type',
    ],
  ])('reports DK_SCHEMA for %s', (_what, base, path, value, expected) => {
    expect(codesOf(edit(base, path, value))).toEqual([expected]);
  });

  it.each<[string, string, Path, string]>([
    ['an input field', TRANSFORM, ['spec', 'inputs', 0, 'name'], 'spec.inputs[0].name'],
    ['version in Connector metadata', CONNECTOR, ['metadata', 'version'], 'metadata.version'],
    ['namespace in Connector metadata', CONNECTOR, ['metadata', 'namespace'], 'metadata.namespace'],
    [
      'annotations in DataSetGroup metadata',
      DATASET_GROUP,
      ['metadata', 'annotations'],
      'metadata.annotations',
    ],
    ['a plugin field', CONNECTOR, ['spec', 'plugin', 'image'], 'spec.plugin.image'],
    ['a trigger field', TRANSFORM, ['spec', 'trigger', 'cron'], 'spec.trigger.cron'],
    ['a DataSet schema field', DATASET, ['spec', 'schema', 0, 'nullable'], 'spec.schema[0].nullable'],
  ])('reports DK_UNKNOWN_FIELD for %s', (_what, base, path, expectedPath) => {
    expect(codesOf(edit(base, path, 'x'))).toEqual([`DK_UNKNOWN_FIELD ${expectedPath}`]);
  });

  it('hints to quote a version that YAML read as a number', () => {
    const [problem] = problemsOf(edit(TRANSFORM, ['metadata', 'version'], 2.1));

    expect(problem).toMatchObject({ code: 'E020', message: expect.stringContaining('quote') });
  });

  it('brackets map keys that are not identifiers in the path', () => {
    expect(codesOf(edit(STORE, ['metadata', 'labels'], { 'app.io/tier': 3 }))).toEqual([
      'DK_SCHEMA metadata.labels["app.io/tier"]',
    ]);
  });
});

describe('loadManifest reports every problem in a document', () => {
  const broken = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: Nightly_Export
  owner: data-team
spec:
  runtime: generic-go
  inputs: []
  outputs:
    - version: ">=1.0.0"
  timeout: soon
`;

  it('lists all of them with their codes and paths', () => {
    expect(codesOf(broken).sort()).toEqual(
      [
        'E001 metadata.name',
        'DK_UNKNOWN_FIELD metadata.owner',
        'E230 spec.inputs',
        'E231 spec.outputs[0]',
        'E031 spec.timeout',
        'E232 spec.image',
      ].sort(),
    );
  });

  it('points each message at the line of the offending field', () => {
    const problems = problemsOf(broken, 'dk.yaml');

    expect(problems.find((problem) => problem.path === 'metadata.name')?.message).toContain('dk.yaml:4:3');
    expect(problems.find((problem) => problem.path === 'spec.timeout')?.message).toContain('dk.yaml:11:3');
  });

  it('points a missing field at its parent', () => {
    const problems = problemsOf(edit(CONNECTOR, ['spec', 'type'], undefined), 'connector.yaml');

    expect(problems).toEqual([
      { code: 'E200', path: 'spec.type', message: expect.stringContaining('connector.yaml:5:1') },
    ]);
  });
});

describe('loadManifest on arbitrary input', () => {
  const yamlish = fc
    .array(
      fc.constantFrom(
        'apiVersion: datakit.infoblox.dev/v1alpha1',
        'kind: Transform',
        'kind: DataSet',
        'metadata:',
        '  name: x',
        'spec:',
        '  inputs: [',
        '- a',
        '---',
        'a: &a [1, 2]',
        'b: *a',
        'c: *missing',
        '{',
        '"',
        'd: !!binary aGk=',
        ': :',
        '\t- x',
        '? complex',
      ),
      { maxLength: 8 },
    )
    .map((lines) => lines.join('\n'));

  it('never throws, and answers with a manifest or well-formed problems', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), yamlish), (text) => {
        const result = loadManifest(text);

        if (result.ok) {
          expect(result.manifest.apiVersion).toBe('datakit.infoblox.dev/v1alpha1');
        } else {
          expect(problemSchema.array().min(1).parse(result.problems)).toEqual(result.problems);
        }
      }),
      { numRuns: 500 },
    );
  });
});
