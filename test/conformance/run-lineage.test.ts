import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { newRunRecord, type RunRecord } from '../../lib/domain/runs/model.js';
import { runLineageEvent } from '../../lib/domain/runs/run-lineage.js';
import { specDir } from '../support/spec-dir.js';

// The oracle: the OpenLineage 2-0-2 JSON Schemas, for the events the control plane emits for its runs.
const openLineageDir = join(specDir(), 'openlineage');
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const readJson = (path: string): object => JSON.parse(readFileSync(path, 'utf8'));
ajv.addSchema(readJson(join(openLineageDir, 'OpenLineage.json')), 'OpenLineage');
const facetFiles = readdirSync(join(openLineageDir, 'facets')).filter((file) => file.endsWith('.json'));
for (const file of facetFiles) ajv.addSchema(readJson(join(openLineageDir, 'facets', file)), file);

const facetFile: Record<string, string> = {
  symlinks: 'SymlinksDatasetFacet.json',
  schema: 'SchemaDatasetFacet.json',
  jobType: 'JobTypeJobFacet.json',
  errorMessage: 'ErrorMessageRunFacet.json',
  parent: 'ParentRunFacet.json',
};

const run: RunRecord = {
  ...newRunRecord({
    runId: '7d0f3a52-2b1e-4c8e-9a37-5e6d4c3b2a10',
    namespace: 'sales',
    name: 'orders',
    version: '1.2.0',
    digest: 'sha256:00',
    env: 'dev',
    cell: 'blue',
    trigger: { type: 'manual' },
    createdAt: '2026-03-01T10:00:00.000Z',
  }),
  status: 'FAILED',
  startedAt: '2026-03-01T10:00:01.000Z',
  finishedAt: '2026-03-01T10:05:00.000Z',
  error: { code: 'RUN_EXIT_NONZERO', message: 'The Transform exited with code 3.' },
  io: {
    inputs: [
      {
        namespace: 'sales',
        name: 'raw-orders',
        cell: 'blue',
        lineage: { namespace: 'kafka://k1:9092', name: 'orders.v1' },
      },
    ],
    outputs: [
      {
        namespace: 'sales',
        name: 'daily-orders',
        cell: 'blue',
        lineage: { namespace: 's3://lake', name: 'daily/orders' },
        schema: [{ name: 'order_id', type: 'string' }],
      },
    ],
  },
};

function facetsOf(event: Record<string, unknown>): [string, unknown][] {
  const facets: [string, unknown][] = [];
  const collect = (container: unknown) => {
    if (typeof container !== 'object' || container === null) return;
    for (const [key, value] of Object.entries(container)) facets.push([key, value]);
  };
  const record = event as {
    run: { facets?: unknown };
    job: { facets?: unknown };
    inputs: { facets?: unknown }[];
    outputs: { facets?: unknown }[];
  };
  collect(record.run.facets);
  collect(record.job.facets);
  for (const dataset of [...record.inputs, ...record.outputs]) collect(dataset.facets);
  return facets;
}

describe('the OpenLineage events of a run', () => {
  it.each(['START', 'COMPLETE', 'FAIL', 'ABORT'] as const)(
    '%s is a valid RunEvent with valid facets',
    (eventType) => {
      const event = runLineageEvent({
        run,
        eventType,
        parent: { namespace: 'sales', name: 'ingest', runId: '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b' },
      });
      expect(ajv.validate('OpenLineage', event), ajv.errorsText()).toBe(true);
      for (const [key, facet] of facetsOf(event)) {
        const file = facetFile[key];
        expect(file, `a schema for facet ${key}`).toBeDefined();
        expect(ajv.validate(file ?? '', { [key]: facet }), `${key}: ${ajv.errorsText()}`).toBe(true);
      }
    },
  );
});
