import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import {
  buildPackageArtifact,
  pushArtifact,
  readPackageDirectory,
} from '../../lib/adapters/oci/package-builder.js';
import { examplePackages } from '../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { type RegistryPlane, startRegistryPlane } from '../support/registry-plane.js';
import { specDir } from '../support/spec-dir.js';

// ---------------------------------------------------------------------------------------------------------------
// Oracles, independent of the code under test: ajv with the published JSON Schemas, the governance rule as
// ARTIFACT.md states it, and the pipeline edges read straight from the YAML.
// ---------------------------------------------------------------------------------------------------------------

const spec = specDir();
const examplesDir = join(spec, 'datakit', 'examples');
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const jsonObject = z.record(z.string(), z.unknown());
const validators = ['transform', 'dataset', 'dataset-group', 'connector', 'store'].map((kind) =>
  ajv.compile(
    jsonObject.parse(JSON.parse(readFileSync(join(spec, 'datakit/schemas', `${kind}.schema.json`), 'utf8'))),
  ),
);

const documentSchema = z.looseObject({
  kind: z.string().optional(),
  metadata: z
    .looseObject({
      name: z.string().optional(),
      namespace: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  spec: z
    .looseObject({
      classification: z.string().optional(),
      schema: z.array(z.looseObject({ pii: z.boolean().optional() })).optional(),
      inputs: z.array(z.looseObject({ dataset: z.string().optional() })).optional(),
      outputs: z.array(z.looseObject({ dataset: z.string().optional() })).optional(),
    })
    .optional(),
});

interface Expectation {
  readonly registers: boolean;
  /** Codes the rejection must include. */
  readonly codes: readonly string[];
}

/** What registration must decide, computed from the oracles alone. */
function expectationFor(files: Record<string, Buffer>): Expectation {
  const manifests = Object.entries(files).filter(
    ([path]) =>
      path === 'dk.yaml' || (/^(connector|dataset|dataset-group)\//.test(path) && /\.ya?ml$/.test(path)),
  );
  const codes = new Set<string>();
  let valid = true;
  for (const [, bytes] of manifests) {
    const document: unknown = parse(bytes.toString('utf8'));
    if (!validators.some((validate) => validate(document))) valid = false;
    const parsed = documentSchema.parse(document);
    const pii = (parsed.spec?.schema ?? []).some((field) => field.pii === true);
    const classification = parsed.spec?.classification;
    if (
      parsed.kind === 'DataSet' &&
      pii &&
      classification !== 'confidential' &&
      classification !== 'restricted'
    ) {
      codes.add('G001');
    }
  }
  const dk = documentSchema.parse(parse(files['dk.yaml']?.toString('utf8') ?? ''));
  if (dk.metadata?.version === undefined) codes.add('E020');
  return { registers: valid && codes.size === 0, codes: [...codes] };
}

let registry: TestRegistry;
let plane: RegistryPlane;
const client = new DistributionClient({ timeoutMs: 10_000 });
const packages = examplePackages(examplesDir);

beforeAll(async () => {
  registry = await startRegistry();
  plane = await startRegistryPlane();
});
afterAll(async () => {
  await plane?.close();
  await registry?.stop();
});

describe('every example package registers as the oracles say', () => {
  it('finds the examples, including one package per reactive-pipeline manifest', () => {
    expect(packages.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'dbt-reporting',
        'kafka-s3-pipeline',
        'reactive-pipeline/datasets/enriched-events',
        'reactive-pipeline/transforms/enrich',
      ]),
    );
  });

  it.each(packages.map((p) => [p.name, p]))('%s', async (name, { dir }) => {
    const files = await readPackageDirectory(dir);
    const expected = expectationFor(files);
    const dk = documentSchema.parse(parse(files['dk.yaml']?.toString('utf8') ?? ''));
    const tag = dk.metadata?.version ?? '0.0.0';
    const repository = { registry: registry.host, repository: `examples/${name.replaceAll('/', '-')}` };
    await pushArtifact(client, repository, tag, await buildPackageArtifact(files));

    const result = await plane.register(`${registry.host}/${repository.repository}:${tag}`);

    if (expected.registers) {
      expect(result.status, JSON.stringify(result.body)).toBe(201);
    } else {
      expect(result.status).toBe(422);
      const codes = (result.body as { problems: { code: string }[] }).problems.map((problem) => problem.code);
      expect(codes).toEqual(expect.arrayContaining([...expected.codes]));
    }
  });

  it('refuses enriched-events with G001 and dbt-reporting with its connector’s E200/E201', async () => {
    const rejected = await plane.get('/v1/registrations?status=rejected&limit=100');
    const byName = (name: string) =>
      (
        rejected.body as { items: { name?: string; problems: { code: string; path?: string }[] }[] }
      ).items.find((item) => item.name === name);

    expect(byName('enriched-events')?.problems).toEqual([
      expect.objectContaining({ code: 'G001', path: 'dk.yaml:spec.classification' }),
    ]);
    expect(byName('dbt-reporting')?.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'E200', path: 'connector/postgres.yaml:spec.type' }),
        expect.objectContaining({ code: 'E201', path: 'connector/postgres.yaml:spec.capabilities' }),
      ]),
    );
  });

  it('draws the reactive pipeline exactly as the Transforms’ YAML declares it', async () => {
    const expected = new Set<string>();
    for (const { name, dir } of packages.filter((p) => p.name.startsWith('reactive-pipeline/transforms/'))) {
      const doc = documentSchema.parse(parse(readFileSync(join(dir, 'dk.yaml'), 'utf8')));
      const transform = `transform:default/${doc.metadata?.name ?? name}`;
      for (const input of doc.spec?.inputs ?? [])
        expected.add(`dataset:default/${input.dataset} -> ${transform}`);
      for (const output of doc.spec?.outputs ?? [])
        expected.add(`${transform} -> dataset:default/${output.dataset}`);
    }

    const graph = (await plane.get('/v1/pipeline')).body as { edges: { from: string; to: string }[] };
    const actual = graph.edges
      .filter((edge) => edge.from.includes(':default/') && edge.to.includes(':default/'))
      .map((edge) => `${edge.from} -> ${edge.to}`);

    expect(new Set(actual)).toEqual(expected);
    expect(expected.size).toBeGreaterThan(0);
  });
});
