import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatNodeId,
  NODE_ID_INVALID,
  type ParsedNodeId,
  parseNodeId,
} from '../../../lib/domain/lineage/node-id.js';

describe('parseNodeId', () => {
  it.each([
    [
      'dataset:food_delivery:public.delivery_7_days',
      { kind: 'dataset', namespace: 'food_delivery', name: 'public.delivery_7_days' },
    ],
    [
      'dataset:postgres://host:5432:db.schema.table',
      { kind: 'dataset', namespace: 'postgres://host:5432', name: 'db.schema.table' },
    ],
    ['dataset:s3://bucket:path/to/x', { kind: 'dataset', namespace: 's3://bucket', name: 'path/to/x' }],
    ['job:my-ns:my.job', { kind: 'job', namespace: 'my-ns', name: 'my.job' }],
    [
      'job:namespace:readJob19<-commonDataset',
      { kind: 'job', namespace: 'namespace', name: 'readJob19<-commonDataset' },
    ],
    ['job:ns:2024_backfill', { kind: 'job', namespace: 'ns', name: '2024_backfill' }],
    [
      'dataset:kafka://broker:9092:orders:v2',
      { kind: 'dataset', namespace: 'kafka://broker:9092', name: 'orders:v2' },
    ],
    [
      'datasetField:postgres://host:5432:db.public.orders:amount',
      {
        kind: 'datasetField',
        namespace: 'postgres://host:5432',
        dataset: 'db.public.orders',
        field: 'amount',
      },
    ],
    [
      'datasetField:namespace:commonDataset:columnA',
      { kind: 'datasetField', namespace: 'namespace', dataset: 'commonDataset', field: 'columnA' },
    ],
  ])('reads %s', (text, expected) => {
    expect(parseNodeId(text)).toEqual({ ok: true, id: expected });
  });

  it.each([
    ['run:0e89b60a-d80d-42ae-a12b-bd79ae1fb576', 'an unsupported kind'],
    ['table:ns:name', 'an unknown kind'],
    ['dataset:only-namespace', 'a missing name'],
    ['dataset::name', 'an empty namespace'],
    ['job:ns:', 'an empty name'],
    ['datasetField:ns:table', 'a missing field'],
    ['dataset:postgres://host:5432', 'a namespace with no name after it'],
    ['', 'an empty string'],
  ])('refuses %s (%s)', (text) => {
    const parsed = parseNodeId(text);

    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatchObject({ code: NODE_ID_INVALID, path: 'nodeId' });
  });

  it('refuses values that are not strings', () => {
    expect(parseNodeId(42)).toMatchObject({ ok: false, problem: { code: NODE_ID_INVALID } });
  });
});

// What round-trips is exactly what Marquez can tell apart: a colon inside a namespace (or a field's dataset)
// must be followed by `//` or a digit (scheme://host:port); the last part may hold anything, but when the id
// has colons of its own the last part must not start with `//` or a digit, or it would read as a port.
const safeChar = fc.constantFrom(...'abcxyz_-./@#%=+ ABC'.split(''));
const segment = fc.string({ unit: safeChar, minLength: 1, maxLength: 8 });
const host = fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/);
const port = fc.integer({ min: 1, max: 65535 });

const namespaceArb = fc.oneof(
  segment.filter((s) => s.trim() !== ''),
  fc
    .tuple(fc.constantFrom('postgres', 's3', 'kafka', 'bigquery', 'redshift', 'file'), host)
    .map(([s, h]) => `${s}://${h}`),
  fc.tuple(fc.constantFrom('postgres', 'mysql', 'kafka'), host, port).map(([s, h, p]) => `${s}://${h}:${p}`),
  fc.tuple(host, port).map(([h, p]) => `${h}:${p}`),
  fc.tuple(fc.constantFrom('s3', 'gs'), host, segment).map(([s, h, path]) => `${s}://${h}/${path}`),
);

const nameArb = fc
  .tuple(segment, fc.array(fc.oneof(segment, fc.constant(':'), fc.constant('/')), { maxLength: 4 }))
  .map(([first, rest]) => first + rest.join(''))
  .filter((name) => !/^(\/\/|\d)/.test(name));

describe('formatNodeId / parseNodeId', () => {
  it('round-trips datasets and jobs over namespaces with schemes, hosts, ports, dots and slashes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('dataset' as const, 'job' as const),
        namespaceArb,
        nameArb,
        (kind, namespace, name) => {
          const id: ParsedNodeId = { kind, namespace, name };

          expect(parseNodeId(formatNodeId(id))).toEqual({ ok: true, id });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips dataset fields', () => {
    const datasetArb = fc
      .tuple(segment, fc.array(fc.oneof(segment, fc.constant('/')), { maxLength: 3 }))
      .map(([first, rest]) => first + rest.join(''))
      .filter((name) => !/^(\/\/|\d)/.test(name));
    fc.assert(
      fc.property(namespaceArb, datasetArb, nameArb, (namespace, dataset, field) => {
        const id: ParsedNodeId = { kind: 'datasetField', namespace, dataset, field };

        expect(parseNodeId(formatNodeId(id))).toEqual({ ok: true, id });
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips plain names starting with a digit when no other colon is involved', () => {
    fc.assert(
      fc.property(segment, fc.stringMatching(/^\d[a-z0-9_.]{0,8}$/), (namespace, name) => {
        const id: ParsedNodeId = { kind: 'job', namespace, name };

        expect(parseNodeId(formatNodeId(id))).toEqual({ ok: true, id });
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on garbage, and anything it accepts formats back to the same text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `dataset:${s}`),
          fc.string().map((s) => `job:${s}`),
          fc.string().map((s) => `datasetField:${s}`),
          fc.anything(),
        ),
        (value) => {
          const parsed = parseNodeId(value);

          if (parsed.ok) expect(formatNodeId(parsed.id)).toBe(value);
          else expect(parsed.problem.code).toBe(NODE_ID_INVALID);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
