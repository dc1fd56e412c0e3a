import { describe, expect, it } from 'vitest';
import {
  defaultPackageContentsLimits,
  isPackageManifestPath,
  readPackageContents,
} from '../../../lib/domain/registry/package-contents.js';

const dkYaml = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: orders-daily, namespace: sales, version: 1.2.0 }
spec:
  runtime: generic-python
  image: team/orders-daily:1.2.0
  inputs: [{ dataset: raw-orders }]
  outputs: [{ dataset: daily-orders }]
  trigger: { policy: on-change }
  timeout: 10m
`;

const dataSet = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: daily-orders, namespace: sales }
spec:
  store: warehouse
  table: sales.daily_orders
  classification: internal
`;

function files(entries: Record<string, string>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));
}

describe('isPackageManifestPath', () => {
  it.each([
    ['dataset/a.yaml', true],
    ['dataset/nested/a.yml', true],
    ['connector/pg.yaml', true],
    ['dataset-group/g.yaml', true],
    ['dataset/readme.md', false],
    ['store/local.yaml', false],
    ['src/dataset/a.yaml', false],
    ['dk.yaml', false],
  ])('%s → %s', (path, expected) => {
    expect(isPackageManifestPath(path)).toBe(expected);
  });
});

describe('readPackageContents bounds the YAML it parses', () => {
  it('loads dk.yaml and the manifests under the budget', () => {
    const result = readPackageContents(files({ 'dk.yaml': dkYaml, 'dataset/daily-orders.yaml': dataSet }));

    expect(result.ok ? result.contents.datasets.map((d) => d.file) : result.problems).toEqual([
      'dataset/daily-orders.yaml',
    ]);
  });

  it('refuses manifests over maxManifestBytes with DK_PACKAGE_TOO_LARGE, without parsing any of them', () => {
    // Not YAML at all: parsing it would report YAML problems, not the size.
    const unparsable = `spec: [${'{'.repeat(1024)}`;

    const result = readPackageContents(files({ 'dk.yaml': dkYaml, 'dataset/huge.yaml': unparsable }), {
      maxManifestBytes: 1024,
    });

    expect(result).toEqual({
      ok: false,
      problems: [
        {
          code: 'DK_PACKAGE_TOO_LARGE',
          message: `the manifests (dk.yaml and 1 more) take ${Buffer.byteLength(dkYaml) + unparsable.length} bytes; at most 1024 are read`,
        },
      ],
    });
  });

  it('counts only the files it parses: source and data of any size do not count', () => {
    const result = readPackageContents(
      files({ 'dk.yaml': dkYaml, 'src/big.py': '#'.repeat(4096), 'store/local.yaml': '#'.repeat(4096) }),
      { maxManifestBytes: 1024 },
    );

    expect(result.ok).toBe(true);
  });

  it('reads 128 KiB of manifests by default, and no more', () => {
    const budget = 128 * 1024;
    const padded = (size: number) =>
      `${dataSet}# ${'x'.repeat(size - Buffer.byteLength(dkYaml) - dataSet.length - 3)}\n`;

    const atBudget = readPackageContents(
      files({ 'dk.yaml': dkYaml, 'dataset/daily-orders.yaml': padded(budget) }),
    );
    const over = readPackageContents(
      files({ 'dk.yaml': dkYaml, 'dataset/daily-orders.yaml': padded(budget + 1) }),
    );

    expect(defaultPackageContentsLimits.maxManifestBytes).toBe(budget);
    expect(atBudget.ok).toBe(true);
    expect(over.ok ? [] : over.problems.map((problem) => problem.code)).toEqual(['DK_PACKAGE_TOO_LARGE']);
  });
});

describe('readPackageContents bounds the problems it reports', () => {
  it('lists at most 100 problems, then DK_PROBLEMS_TRUNCATED, for a manifest with 20 000 of them', () => {
    const hostile = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: hostile }
spec: { store: s, table: t, schema: [${'1,'.repeat(20_000)}1] }
`;

    const result = readPackageContents(files({ 'dk.yaml': dkYaml, 'dataset/hostile.yaml': hostile }));

    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(101);
    expect(problems.slice(0, 100).every((problem) => problem.path?.startsWith('dataset/hostile.yaml:'))).toBe(
      true,
    );
    expect(problems[100]).toEqual({
      code: 'DK_PROBLEMS_TRUNCATED',
      message: 'more problems were found than the 100 listed; fix these and register again to see the rest',
    });
  });

  it('counts the problems of every file against the same 100', () => {
    const broken = 'apiVersion: datakit.infoblox.dev/v1alpha1\nkind: DataSet\nmetadata: { name: Bad_Name }\n';
    const many = Object.fromEntries(
      Array.from({ length: 150 }, (_, index) => [`dataset/d-${index}.yaml`, broken]),
    );

    const result = readPackageContents(files({ 'dk.yaml': dkYaml, ...many }));

    expect(result.ok ? [] : result.problems.map((problem) => problem.code).slice(-1)).toEqual([
      'DK_PROBLEMS_TRUNCATED',
    ]);
    expect(result.ok ? 0 : result.problems.length).toBe(101);
  });

  it('shortens a path or message longer than 1 KiB, so that one huge key cannot fill the record', () => {
    const key = 'k'.repeat(100_000);
    const manifest = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: daily-orders }
spec: { store: s, table: t, ${key}: 1 }
`;

    const result = readPackageContents(files({ 'dk.yaml': dkYaml, 'dataset/daily-orders.yaml': manifest }));

    const problems = result.ok ? [] : result.problems;
    expect(problems.map((problem) => problem.code)).toContain('DK_UNKNOWN_FIELD');
    for (const problem of problems) {
      expect(problem.message.length).toBeLessThanOrEqual(1024);
      expect(problem.path?.length ?? 0).toBeLessThanOrEqual(1024);
    }
  });
});
